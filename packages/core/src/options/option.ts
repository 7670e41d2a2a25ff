import { InvalidArgumentError } from '../errors.js';
import { describe } from './describe.js';

/** Where options are read: the package and the call the user made, for every message. */
export interface At {
  /** The package the user called: `@oncelock/redis`. */
  readonly pkg: string;
  /** The function the options were passed to: `redisBackend()`, `lease()`. */
  readonly call: string;
  /** The backend's name, when there is one. */
  readonly backend?: string;
}

/**
 * Reads one option's value: checks it, applies its default, and says what it expects.
 *
 * @typeParam T - The parsed value's type.
 */
export interface Option<T> {
  /** What a valid value is, in words: `a duration: a whole number of milliseconds from 0 to 600000`. */
  readonly expects: string;
  /**
   * The value to use, or `InvalidArgumentError` naming `name`, the call and the package.
   *
   * @param value - The value the user gave, `undefined` when left out.
   * @param name - The option's name, for the message: `ttl`.
   * @param at - The package and the call, for the message.
   */
  read(value: unknown, name: string, at: At): T;
}

/** Marks a value a kind refuses; `undefined` is a valid parsed value for some kinds. */
export const INVALID: unique symbol = Symbol('invalid');
/**
 * Reads a raw option value as `T`, or returns {@link INVALID} when it is not one.
 *
 * @typeParam T - The parsed value's type.
 * @param value - The value the user gave (never `undefined`: a `Kind` handles a left-out option).
 */
export type Parse<T> = (value: unknown) => T | typeof INVALID;

/**
 * The error every option checker throws: names the package, the call and the option.
 *
 * @param at - The package, the call and the backend, if any, that the message names.
 * @param message - What is wrong, after the call's name: `ttl must be a TTL: …, got 0`.
 */
export function invalid(at: At, message: string): InvalidArgumentError {
  return new InvalidArgumentError(`${at.call}: ${message}`, { pkg: at.pkg, backend: at.backend });
}

/**
 * An option of one kind that may be left out (it reads as `undefined`). `.default(value)` and
 * `.required()` make options that always have a value.
 *
 * @typeParam T - The parsed value's type.
 */
export class Kind<T> implements Option<T | undefined> {
  /**
   * @param expects - What a valid value is, in words, for messages.
   * @param parse - Checks a given value and returns it parsed, or {@link INVALID}.
   */
  constructor(
    readonly expects: string,
    private readonly parse: Parse<T>,
  ) {}

  /**
   * The value parsed, or `undefined` when left out; `InvalidArgumentError` when invalid.
   *
   * @param value - The value the user gave, `undefined` when left out.
   * @param name - The option's name, for the message.
   * @param at - The package and the call, for the message.
   */
  read(value: unknown, name: string, at: At): T | undefined {
    return value === undefined ? undefined : this.check(value, name, at);
  }

  /**
   * Reads `fallback` when the option is left out.
   *
   * @param fallback - The value used when the option is left out; it is not checked.
   */
  default(fallback: T): Option<T> {
    return this.or(() => fallback);
  }

  /** Refuses a call that leaves the option out. */
  required(): Option<T> {
    return this.or((name, at) => {
      throw invalid(at, `${name} is required: ${this.expects}`);
    });
  }

  private or(missing: (name: string, at: At) => T): Option<T> {
    return {
      expects: this.expects,
      read: (value, name, at) => (value === undefined ? missing(name, at) : this.check(value, name, at)),
    };
  }

  private check(value: unknown, name: string, at: At): T {
    const parsed = this.parse(value);
    if (parsed === INVALID) throw invalid(at, `${name} must be ${this.expects}, got ${describe(value)}`);
    return parsed;
  }
}
