import { MAX_KEY_LENGTH, MAX_OWNER_LENGTH, MAX_TTL, MIN_TTL } from './backend.js';
import { InvalidArgumentError } from './errors.js';

// Every public entry point runs these before any round trip, so bad input never reaches a store.

/** A non-empty, well-formed string of at most `MAX_KEY_LENGTH` bytes of UTF-8 with no NUL, or `InvalidArgumentError`. */
export function checkKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string')
    throw new InvalidArgumentError(`${what} must be a string, got ${describe(key)}`);
  if (key.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
  // Cheap first: no string of more than MAX_KEY_LENGTH code units fits in as many UTF-8 bytes.
  const bytes = key.length > MAX_KEY_LENGTH ? key.length : Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_LENGTH) {
    throw new InvalidArgumentError(`${what} is ${bytes} bytes long in UTF-8; the limit is ${MAX_KEY_LENGTH}`);
  }
  if (!key.isWellFormed())
    throw new InvalidArgumentError(`${what} contains a lone surrogate and cannot be encoded`);
  // Some stores (PostgreSQL text) cannot hold NUL; refusing it everywhere keeps backends interchangeable.
  if (key.includes('\0')) throw new InvalidArgumentError(`${what} contains a NUL character`);
  return key;
}

/** A non-empty, well-formed owner token of at most `MAX_OWNER_LENGTH` characters, or `InvalidArgumentError`. */
export function checkOwner(owner: unknown): string {
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > MAX_OWNER_LENGTH) {
    throw new InvalidArgumentError(
      `owner must be a non-empty string of at most ${MAX_OWNER_LENGTH} characters`,
    );
  }
  if (!owner.isWellFormed() || owner.includes('\0')) {
    throw new InvalidArgumentError('owner contains a lone surrogate or a NUL character');
  }
  return owner;
}

/** A whole number of milliseconds in [`MIN_TTL`, `MAX_TTL`], or `InvalidArgumentError`. */
export function checkTtl(ttl: unknown, what = 'ttl'): number {
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < MIN_TTL || ttl > MAX_TTL) {
    throw new InvalidArgumentError(
      `${what} must be a whole number of milliseconds from ${MIN_TTL} to ${MAX_TTL}, got ${describe(ttl)}`,
    );
  }
  return ttl;
}

/** `false`/`undefined` (0: try once) or whole milliseconds up to `MAX_TTL`, or `InvalidArgumentError`. */
export function checkWait(wait: unknown): number {
  if (wait === undefined || wait === false) return 0;
  if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > MAX_TTL) {
    throw new InvalidArgumentError(
      `wait must be false or a whole number of milliseconds up to ${MAX_TTL}, got ${describe(wait)}`,
    );
  }
  return wait;
}

/** An `AbortSignal` or `undefined`, or `InvalidArgumentError`. */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal))
    throw new InvalidArgumentError(`signal must be an AbortSignal, got ${describe(signal)}`);
  return signal;
}

/** A boolean (`fallback` when `undefined`), or `InvalidArgumentError` naming `what`. */
export function checkBoolean(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new InvalidArgumentError(`${what} must be a boolean, got ${describe(value)}`);
  return value;
}

/** One of `allowed` (`fallback` when `undefined`), or `InvalidArgumentError` listing them. */
export function checkOneOf<T extends string>(
  value: unknown,
  what: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidArgumentError(
      `${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`,
    );
  }
  return value as T;
}

/** A plain options object (`{}` when `undefined`), or `InvalidArgumentError` naming `what`. */
export function checkObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Something shaped like a `LockBackend`, or `InvalidArgumentError`. */
export function checkBackend(backend: unknown): void {
  const b = backend as Record<string, unknown> | null;
  if (
    !b ||
    typeof b !== 'object' ||
    typeof b.acquire !== 'function' ||
    typeof b.extend !== 'function' ||
    typeof b.release !== 'function' ||
    typeof b.guarantees !== 'object'
  ) {
    throw new InvalidArgumentError(
      `backend must be an oncelock backend (memoryBackend(), redisBackend(), ...), got ${describe(backend)}`,
    );
  }
}

/** A short, safe description of a bad value for error messages (never the whole of a long string). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
