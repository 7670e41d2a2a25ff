// One side of the race measurement: builds contenders for a store and runs one round.
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { keyvBackend } from '../src/index.js';

export interface Variant {
  readonly name: string;
  readonly settle: number;
  readonly confirmations: number;
}

/** From "write and trust" to the package default, so the table shows what each step buys. */
export function variants(settle: number): Variant[] {
  return [
    { name: 'write, no read-back', settle: 0, confirmations: 0 },
    { name: 'write, read back at once', settle: 0, confirmations: 1 },
    { name: `fresh read, write, settle ${settle} ms, read back`, settle, confirmations: 1 },
    { name: `fresh read, write, (settle ${settle} ms, read back) x2`, settle, confirmations: 2 },
  ];
}

export interface RoundResult {
  /** How many contenders were granted the key. */
  readonly granted: number;
  /** Acquire calls that failed with an error (a store too slow for `settle`, for one). */
  readonly errors: number;
  /** Total milliseconds the acquire calls took, summed over contenders. */
  readonly ms: number;
  readonly calls: number;
}

export type StoreKind = 'memory' | 'redis';

export interface Contenders {
  /** Every contender tries `key` once, each at `at` plus up to `jitter` ms. */
  round(key: string, at: number, jitter: number): Promise<RoundResult>;
  close(): Promise<void>;
}

// One Map for the whole process: in-memory contenders can only meet inside one process.
const sharedMap = new Map();

/** `count` contenders, each with its own Keyv and (for Redis) its own connection, as separate workers would. */
export function contenders(
  kind: StoreKind,
  url: string,
  namespace: string,
  count: number,
  variant: Variant,
): Contenders {
  const backends = Array.from({ length: count }, () => {
    const store =
      kind === 'memory'
        ? new Keyv({ store: sharedMap, namespace, throwOnErrors: true })
        : new Keyv(new KeyvRedis(url, { throwOnErrors: true }), { namespace, throwOnErrors: true });
    return keyvBackend({
      store,
      settle: variant.settle,
      confirmations: variant.confirmations,
      closeStore: true,
    });
  });
  return {
    async round(key, at, jitter) {
      // One timer releases everyone in the same tick: separate timers would let an in-memory
      // contender finish its whole acquire (all microtasks) before the next one even started.
      const gate = sleep(at - Date.now());
      const results = await Promise.all(
        backends.map(async (backend, i) => {
          await gate;
          if (jitter > 0) await sleep(Math.random() * jitter);
          const began = performance.now();
          const r = await backend
            .acquire({ key, owner: `contender-${process.pid}-${i}`, ttl: 10_000 })
            .catch(() => null);
          const ms = performance.now() - began;
          return { granted: r?.granted ? 1 : 0, errors: r ? 0 : 1, ms, calls: 1 };
        }),
      );
      return sum(results);
    },
    async close() {
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export function sum(results: readonly RoundResult[]): RoundResult {
  const total = { granted: 0, errors: 0, ms: 0, calls: 0 };
  for (const r of results) {
    total.granted += r.granted;
    total.errors += r.errors;
    total.ms += r.ms;
    total.calls += r.calls;
  }
  return total;
}
