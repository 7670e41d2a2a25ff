import { count, duration, flag, invalid, type Option, text } from '@oncelock/core/backend';
import type { Keyv } from 'keyv';

/** Options of {@link keyvBackend}. */
export interface KeyvBackendOptions {
  /**
   * The Keyv instance to keep locks in. It must throw its store's errors: with Keyv 5, create it
   * with `throwOnErrors: true`, and give the adapter the same switch where it has one
   * (`@keyv/redis` does); with Keyv 6, add no 'error' listener to it. Otherwise a failed read
   * comes back as `undefined`, which a lock reads as "free".
   */
  store: Keyv;
  /** Put in front of every key, inside the Keyv namespace; no `{`. Default `'oncelock:'`. */
  prefix?: string;
  /** Milliseconds to wait after writing before each read-back. Default 5. */
  settle?: number;
  /** How many times to wait `settle` and read the key back before trusting a write. Default 2. */
  confirmations?: number;
  /**
   * Milliseconds one Keyv call (a get, a set or a delete) may take before the operation fails
   * with `BackendUnavailableError`. Default 5000. It bounds each call, not the operation: an
   * acquire spends `settle × confirmations` ms waiting between its calls by design, and an
   * operation stops at the call that timed out, so it never starts a write after its caller was
   * told it failed.
   */
  timeout?: number;
  /** Disconnect the Keyv store in `close()`. Default `false`: a store passed in belongs to the caller. */
  closeStore?: boolean;
}

/**
 * Keyv 5 swallows store errors unless told otherwise: `get` returns `undefined`, `set` and
 * `delete` emit an 'error' event (dropped when nobody listens) and return `false`; `@keyv/redis`
 * does the same once more inside the adapter. Keyv 6 has no `throwOnErrors`: it emits the
 * error, which throws only when no 'error' listener is registered. A lock must never read a failure as "free", so
 * a store that would hide errors is refused here rather than quietly reconfigured: it is the
 * caller's object, and other code may rely on its settings.
 */
const keyvStore: Option<Keyv> = {
  expects: 'a Keyv instance created with { throwOnErrors: true }',
  read(value, name, at) {
    const s = value as Record<string, unknown> | null | undefined;
    if (!s || typeof s !== 'object' || !['get', 'set', 'delete'].every((m) => typeof s[m] === 'function')) {
      throw invalid(
        at,
        `${name} must be a Keyv instance, for example new Keyv(new KeyvRedis(url), { throwOnErrors: true })`,
      );
    }
    if (s.throwOnErrors === undefined && typeof s.listenerCount === 'function') {
      // Keyv 6 has no switch: it throws a store's error only while nobody listens for 'error'.
      if ((s.listenerCount as (event: string) => number)('error') > 0) {
        throw invalid(
          at,
          `${name} has an 'error' listener, so Keyv 6 hands store errors to it instead of throwing them: a failed read would look like a free lock`,
        );
      }
      return value as Keyv;
    }
    if (typeof s.throwOnErrors !== 'boolean') {
      throw invalid(at, `${name} has no throwOnErrors switch: use Keyv 5.6 or later (5 and 6 are tested)`);
    }
    if (s.throwOnErrors !== true) {
      throw invalid(
        at,
        `${name} must be created with { throwOnErrors: true }, or a failed read would look like a free lock`,
      );
    }
    const adapter = s.store as Record<string, unknown> | undefined;
    if (adapter && adapter.throwOnErrors === false) {
      throw invalid(
        at,
        `${name}'s adapter swallows errors: create it with { throwOnErrors: true } as well (as @keyv/redis allows)`,
      );
    }
    return value as Keyv;
  },
};

export const keyvOptions = {
  store: keyvStore,
  // The first `{` of a stored key marks where the prefix ends (see entries.ts).
  prefix: text({ rule: 'without "{"', test: (s) => !s.includes('{') }).default('oncelock:'),
  settle: duration({ max: 10_000 }).default(5),
  confirmations: count({ max: 10 }).default(2),
  timeout: duration({ min: 1, max: 600_000 }).default(5000),
  closeStore: flag().default(false),
};
