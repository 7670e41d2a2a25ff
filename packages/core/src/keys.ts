import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';
import { describe } from './options/describe.js';
import { checkKey } from './validate.js';

/**
 * The version of {@link argsKey}'s encoding. It is part of every key it makes, so a future
 * change of encoding yields new keys instead of silently different ones for the same arguments.
 */
export const ARGS_KEY_VERSION = 'v1';

/**
 * A stable key for a job name and its arguments: `name:v1:<hash>`. Equal arguments give equal
 * keys whatever the order of object keys; the hash is SHA-256 over a canonical encoding,
 * cut to 128 bits. Refuses what has no stable encoding (functions, symbols, cycles, NaN,
 * class instances other than Date) with `InvalidArgumentError`.
 *
 * @param name - The job's name, kept readable at the key's start (a valid key on its own).
 * @param args - The arguments that make one call distinct from another: plain data, arrays,
 *   objects, Dates, bigints.
 */
export function argsKey(name: string, args: readonly unknown[]): string {
  checkKey(name, 'key name');
  const digest = createHash('sha256').update(canonical(args, new Set())).digest('base64url').slice(0, 22);
  return checkKey(`${name}:${ARGS_KEY_VERSION}:${digest}`);
}

/**
 * Joins parts with `:` after checking each, for readable keys such as `scan:shard-3`.
 *
 * @param parts - Non-empty strings or finite numbers, in order; they are not escaped, so a part
 *   that holds `:` reads as two.
 */
export function joinKey(...parts: Array<string | number>): string {
  const text = parts.map((p) => {
    if (typeof p === 'number' && Number.isFinite(p)) return String(p);
    if (typeof p === 'string' && p.length > 0) return p;
    throw new InvalidArgumentError(
      `key parts must be non-empty strings or finite numbers, got ${describe(p)}`,
    );
  });
  return checkKey(text.join(':'));
}

function canonical(value: unknown, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value))
        throw new InvalidArgumentError(`argument ${value} has no stable key encoding`);
      // -0 and 0 are the same argument for every practical purpose.
      return Object.is(value, -0) ? '0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'u';
    case 'object':
      return canonicalObject(value, seen);
    default:
      throw new InvalidArgumentError(`an argument of type ${typeof value} cannot be turned into a key`);
  }
}

function canonicalObject(value: object | null, seen: Set<object>): string {
  if (value === null) return 'null';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new InvalidArgumentError('an invalid Date cannot be turned into a key');
    return `D${value.toISOString()}`;
  }
  if (seen.has(value)) throw new InvalidArgumentError('arguments with a cycle cannot be turned into a key');
  seen.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((v) => canonical(v, seen)).join(',')}]`;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidArgumentError(
        `an instance of ${value.constructor?.name ?? 'a class'} cannot be turned into a key; pass plain data or a key function`,
      );
    }
    const entries = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k], seen)}`);
    return `{${entries.join(',')}}`;
  } finally {
    seen.delete(value);
  }
}
