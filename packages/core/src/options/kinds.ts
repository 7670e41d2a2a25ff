import { MAX_TTL, MIN_TTL } from '../contract.js';
import { INVALID, invalid, Kind, type Option } from './option.js';

// The kinds of option value every package checks. Each names what it expects in words, so a
// message says "a duration" or "a TTL", whichever the option really is.

const whole = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/** How long the store keeps a claim: whole milliseconds from `MIN_TTL` to `MAX_TTL`. */
export function ttl(): Kind<number> {
  return new Kind(`a TTL: a whole number of milliseconds from ${MIN_TTL} to ${MAX_TTL}`, (v) =>
    whole(v, MIN_TTL, MAX_TTL) ? v : INVALID,
  );
}

/**
 * A length of time (a timeout, a delay, a pause): whole milliseconds in `[min, max]`.
 *
 * @param range - The bounds, both included.
 * @param range.min - The shortest duration accepted, in milliseconds. Default 0.
 * @param range.max - The longest duration accepted, in milliseconds. Default `MAX_TTL`.
 */
export function duration({ min = 0, max = MAX_TTL }: { min?: number; max?: number } = {}): Kind<number> {
  return new Kind(`a duration: a whole number of milliseconds from ${min} to ${max}`, (v) =>
    whole(v, min, max) ? v : INVALID,
  );
}

/** How long to wait: `false` (try once, read as 0) or whole milliseconds up to `MAX_TTL`. */
export function wait(): Kind<number> {
  return new Kind(`false or a whole number of milliseconds up to ${MAX_TTL}`, (v) =>
    v === false ? 0 : whole(v, 0, MAX_TTL) ? v : INVALID,
  );
}

/**
 * A whole number in `[min, max]`: a count, a limit, a number of tries.
 *
 * @param range - The bounds, both included.
 * @param range.min - The smallest number accepted. Default 0.
 * @param range.max - The largest number accepted. Default `Number.MAX_SAFE_INTEGER`.
 */
export function count({
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
}: {
  min?: number;
  max?: number;
} = {}): Kind<number> {
  return new Kind(`a whole number from ${min} to ${max}`, (v) => (whole(v, min, max) ? v : INVALID));
}

/** `true` or `false`. */
export function flag(): Kind<boolean> {
  return new Kind('a boolean', (v) => (typeof v === 'boolean' ? v : INVALID));
}

/**
 * One of the strings in `allowed`.
 *
 * @typeParam T - The union of the allowed strings, inferred from `allowed`.
 * @param allowed - Every accepted value; messages list them in this order.
 */
export function oneOf<const T extends string>(allowed: readonly T[]): Kind<T> {
  return new Kind(`one of ${allowed.map((a) => `'${a}'`).join(', ')}`, (v) =>
    allowed.includes(v as T) ? (v as T) : INVALID,
  );
}

/**
 * A non-empty string; `rule` says in words what else `test` demands of it.
 *
 * @param demands - What more a valid string must be. Default: any non-empty string.
 * @param demands.rule - `test` in words, appended to "a non-empty string" in messages.
 * @param demands.test - Returns `true` for a valid string. Left out: every non-empty string is.
 */
export function text({ rule, test }: { rule?: string; test?: (s: string) => boolean } = {}): Kind<string> {
  return new Kind(rule ? `a non-empty string ${rule}` : 'a non-empty string', (v) =>
    typeof v === 'string' && v.length > 0 && (!test || test(v)) ? v : INVALID,
  );
}

/**
 * A URL whose scheme is one of `protocols` (`['redis:', 'rediss:']`).
 *
 * @param protocols - The accepted schemes, each with its colon, as `URL.protocol` gives them.
 */
export function url(protocols: readonly string[]): Kind<string> {
  const names = protocols.map((p) => `${p}//`).join(' or ');
  return new Kind(`a ${names} URL`, (v) => {
    if (typeof v !== 'string' || !URL.canParse(v)) return INVALID;
    return protocols.includes(new URL(v).protocol) ? v : INVALID;
  });
}

/**
 * A client or other object passed in by the user, told by its shape (so a second copy of the
 * client library works too): `described` names it in messages, `methods` are what it must have.
 *
 * @typeParam T - The client's type, as the caller will use it.
 * @param described - The client in words for messages: `an ioredis client`.
 * @param methods - The names of the functions an object must have to be taken for the client.
 */
export function client<T>(described: string, methods: readonly string[]): Kind<T> {
  return new Kind(described, (v) =>
    v !== null &&
    typeof v === 'object' &&
    methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function')
      ? (v as T)
      : INVALID,
  );
}

/**
 * A plain object handed on as it is (a client library's own options): `described` names it.
 *
 * @typeParam T - The object's type, as the caller will use it.
 * @param described - The object in words for messages. Default `an object`.
 */
export function object<T extends object>(described = 'an object'): Kind<T> {
  return new Kind(described, (v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as T) : INVALID,
  );
}

/** An `AbortSignal`. */
export function signal(): Kind<AbortSignal> {
  return new Kind('an AbortSignal', (v) => (v instanceof AbortSignal ? v : INVALID));
}

/**
 * A function (`described` names it in messages).
 *
 * @typeParam T - The function's type, as the caller will use it.
 * @param described - The function in words for messages. Default `a function`.
 */
export function func<T extends (...args: never[]) => unknown>(described = 'a function'): Kind<T> {
  return new Kind(described, (v) => (typeof v === 'function' ? (v as T) : INVALID));
}

/**
 * A walk's first cursor: any value, required. Whether JSON can carry it is checked where it is
 * saved, with the walk's name in the message.
 */
export function cursor(): Option<unknown> {
  return {
    expects: 'a JSON value',
    read(value, name, at) {
      if (value === undefined) throw invalid(at, `${name} is required: a JSON value (the first cursor)`);
      return value;
    },
  };
}
