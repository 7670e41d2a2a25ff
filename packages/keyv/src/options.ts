import { describeValue, InvalidArgumentError } from '@oncelock/core';
import type { Keyv } from 'keyv';
import { where } from './where.js';

/** Options of {@link keyvBackend}. */
export interface KeyvBackendOptions {
  /**
   * The Keyv instance to keep locks in. It must throw its store's errors: create it with
   * `throwOnErrors: true`, and give the adapter the same switch where it has one (`@keyv/redis`
   * does). Otherwise a failed read comes back as `undefined`, which a lock reads as "free".
   */
  store: Keyv;
  /** Put in front of every key, inside the Keyv namespace. Default `'oncelock:'`. */
  prefix?: string;
  /** Milliseconds to wait after writing before each read-back. Default 5. */
  settle?: number;
  /** How many times to wait `settle` and read the key back before trusting a write. Default 2. */
  confirmations?: number;
  /** Milliseconds one Keyv call may take before it fails with `BackendUnavailableError`. Default 5000. */
  timeout?: number;
  /** Disconnect the Keyv store in `close()`. Default `false`: a store passed in belongs to the caller. */
  closeStore?: boolean;
}

export interface Parsed {
  store: Keyv;
  prefix: string;
  settle: number;
  confirmations: number;
  timeout: number;
  closeStore: boolean;
}

export function parseOptions(options: unknown): Parsed {
  if (options === null || typeof options !== 'object') fail('options must be an object with a `store`');
  const o = options as Record<string, unknown>;
  const store = checkStore(o.store);
  const prefix = o.prefix ?? 'oncelock:';
  if (typeof prefix !== 'string') fail('prefix must be a string');
  // The first `{` of a stored key marks where the prefix ends (see store.ts).
  if (prefix.includes('{')) fail('prefix must not contain `{`');
  return {
    store,
    prefix,
    settle: whole(o.settle, 'settle', 5, 0, 10_000),
    confirmations: whole(o.confirmations, 'confirmations', 2, 0, 10),
    timeout: whole(o.timeout, 'timeout', 5000, 1, 600_000),
    closeStore: flag(o.closeStore, 'closeStore'),
  };
}

/**
 * Keyv 5 swallows store errors unless told otherwise: `get` returns `undefined`, `set` and
 * `delete` emit an 'error' event (dropped when nobody listens) and return `false`; `@keyv/redis`
 * does the same once more inside the adapter. A lock must never read a failure as "free", so
 * a store that would hide errors is refused here rather than quietly reconfigured: it is the
 * caller's object, and other code may rely on its settings.
 */
function checkStore(store: unknown): Keyv {
  const s = store as Record<string, unknown> | null | undefined;
  if (!s || typeof s !== 'object' || !['get', 'set', 'delete'].every((m) => typeof s[m] === 'function')) {
    fail('store must be a Keyv instance, for example new Keyv(new KeyvRedis(url), { throwOnErrors: true })');
  }
  if (typeof s.throwOnErrors !== 'boolean') {
    fail('store has no throwOnErrors switch: upgrade to a Keyv 5 release that has it (5.6 is tested)');
  }
  if (s.throwOnErrors !== true) {
    fail('store must be created with { throwOnErrors: true }, or a failed read would look like a free lock');
  }
  const adapter = s.store as Record<string, unknown> | undefined;
  if (adapter && adapter.throwOnErrors === false) {
    fail(
      "store's adapter swallows errors: create it with { throwOnErrors: true } as well (as @keyv/redis allows)",
    );
  }
  return store as Keyv;
}

function whole(value: unknown, what: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${what} must be a whole number from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

function flag(value: unknown, what: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(`${what} must be a boolean`);
  return value;
}

function fail(message: string): never {
  throw new InvalidArgumentError(message, where);
}
