import { type LockBackend, MAX_KEY_LENGTH, MAX_OWNER_LENGTH } from './contract.js';
import { InvalidArgumentError } from './errors.js';
import { describe } from './options/describe.js';
import type { Option } from './options/option.js';

// Every public entry point runs these before any round trip, so bad input never reaches a store.

/**
 * A non-empty, well-formed string of at most `MAX_KEY_LENGTH` bytes of UTF-8 with no NUL, or `InvalidArgumentError`.
 *
 * @param key - The value to check.
 * @param what - The name the message gives it: `key`, `options.key`. Default `key`.
 */
export function checkKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string')
    throw new InvalidArgumentError(`${what} must be a string, got ${describe(key)}`);
  if (key.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
  // Cheap first: a UTF-16 code unit takes at most 3 bytes of UTF-8, so a short key needs no
  // count; no string of more than MAX_KEY_LENGTH code units fits in as many bytes.
  if (key.length * 3 > MAX_KEY_LENGTH) {
    const bytes = key.length > MAX_KEY_LENGTH ? key.length : Buffer.byteLength(key, 'utf8');
    if (bytes > MAX_KEY_LENGTH) {
      throw new InvalidArgumentError(
        `${what} is ${bytes} bytes long in UTF-8; the limit is ${MAX_KEY_LENGTH}`,
      );
    }
  }
  if (!key.isWellFormed())
    throw new InvalidArgumentError(`${what} contains a lone surrogate and cannot be encoded`);
  // Some stores (PostgreSQL text) cannot hold NUL; refusing it everywhere keeps backends interchangeable.
  if (key.includes('\0')) throw new InvalidArgumentError(`${what} contains a NUL character`);
  return key;
}

/**
 * A non-empty, well-formed owner token of at most `MAX_OWNER_LENGTH` characters, or `InvalidArgumentError`.
 *
 * @param owner - The value to check.
 */
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

/**
 * Something shaped like a `LockBackend`, or `InvalidArgumentError`.
 *
 * @param backend - The value to check: it needs `acquire`, `extend`, `release` and `guarantees`.
 */
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

/** `checkKey` as an option: a required key. */
export const keyOption: Option<string> = {
  expects: 'a key',
  read: (value, name) => checkKey(value, name),
};

/** `checkOwner` as an option that may be left out. */
export const ownerOption: Option<string | undefined> = {
  expects: 'an owner token',
  read: (value) => (value === undefined ? undefined : checkOwner(value)),
};

/** `checkBackend` as an option: a required backend. */
export const backendOption: Option<LockBackend> = {
  expects: 'an oncelock backend',
  read: (value) => {
    checkBackend(value);
    return value as LockBackend;
  },
};

/** A key, or a function of a call's arguments that makes one: checked once up front, or on every call. */
export const keyOrFunction: Option<string | ((...args: never[]) => string)> = {
  expects: 'a key or a function of the arguments',
  read(value, name) {
    if (typeof value === 'function') return value as (...args: never[]) => string;
    if (typeof value === 'string') return checkKey(value, name);
    throw new InvalidArgumentError(`${name} must be a string or a function, got ${describe(value)}`);
  },
};

/** The key of one call: a fixed key as it is, or what the key function makes of the call, checked. */
export function keyOfCall<A extends unknown[]>(
  key: string | ((...args: A) => string),
  self: unknown,
  args: A,
): string {
  return typeof key === 'string' ? key : checkKey(key.apply(self, args));
}
