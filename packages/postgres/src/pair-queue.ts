import { pairKey } from './batch.js';

/**
 * Runs the acquire and release calls of one (key, owner) one after another, so that the grant
 * ledger sees them in order; calls for other pairs run at once.
 */
export class PairQueue {
  /** The call in flight per pair; the next one waits for it. */
  readonly #pending = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier call for (key, owner) has settled. */
  async run<T>(key: string, owner: string, fn: () => Promise<T>): Promise<T> {
    const k = pairKey(key, owner);
    for (let busy = this.#pending.get(k); busy; busy = this.#pending.get(k)) await busy.catch(() => {});
    const op = fn();
    this.#pending.set(k, op);
    try {
      return await op;
    } finally {
      if (this.#pending.get(k) === op) this.#pending.delete(k);
    }
  }

  /** Whether an acquire or release of (key, owner) is in flight. */
  busy(key: string, owner: string): boolean {
    return this.#pending.has(pairKey(key, owner));
  }
}
