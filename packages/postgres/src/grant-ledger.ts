import { pairKey } from './batch.js';
import type { LockSession } from './lock-session.js';

const now = () => performance.now();

/** A grant a lock session made: the session holds one count of the key's shared advisory lock for it. */
export interface Grant {
  readonly key: string;
  readonly owner: string;
  /** The key's advisory lock id, as text (a bigint). */
  readonly id: string;
  readonly session: LockSession;
  /** Monotonic time after which the count is given back unless the grant was extended. */
  expiresAt: number;
}

/**
 * The grants this backend's lock sessions hold, one advisory lock count each, and the giving
 * back of those counts: exactly once per grant, on release, at expiry (a timer), or when the
 * store says the grant is gone. Counts dropped in one tick go back in one statement per session.
 *
 * Beside grants, the counts kept by waiters: a refused waiting acquire keeps its count while the
 * pair is among the key's waiters, so that a release can hand it the key (see sql/hand.ts). Such
 * a count becomes the grant's when the pair is granted or a hand is claimed (`promote`), and is
 * given back once when the pair stops waiting without a grant (`stopWaiting`).
 */
export class GrantLedger {
  readonly #grants = new Map<string, Grant>();
  /** Counts kept by waiting pairs; their `expiresAt` means nothing (no sweep: they last while the pair waits). */
  readonly #waiting = new Map<string, Grant>();
  /** Lock ids to give one count back for, per session, sent together at the end of the tick. */
  readonly #toUnlock = new Map<LockSession, string[]>();
  readonly #unlock: (s: LockSession, ids: string[]) => Promise<boolean[]>;
  #sweepTimer: ReturnType<typeof setTimeout> | undefined;
  #sweepAt = Number.POSITIVE_INFINITY;
  #closed = false;

  /** `unlock` gives one count back per id on `s` and resolves one result per id. */
  constructor(unlock: (s: LockSession, ids: string[]) => Promise<boolean[]>) {
    this.#unlock = unlock;
  }

  get(key: string, owner: string): Grant | undefined {
    return this.#grants.get(pairKey(key, owner));
  }

  /** Records `grant`; a renewal of `previous`, still recorded, only moves its expiry. */
  record(grant: Grant, previous: Grant | undefined): void {
    if (previous && this.get(previous.key, previous.owner) === previous) previous.expiresAt = grant.expiresAt;
    else this.#grants.set(pairKey(grant.key, grant.owner), grant);
    this.#schedule();
  }

  /** Keeps the sweep off grants being renewed: their expiry moves before their statement goes out. */
  holdOff(renewals: ReadonlyArray<{ key: string; owner: string; ttl: number }>): void {
    const t = now();
    for (const r of renewals) {
      const g = this.get(r.key, r.owner);
      if (g) g.expiresAt = Math.max(g.expiresAt, t + r.ttl);
    }
  }

  /** Forgets `g` without giving its count back (a release statement gives it back); false if already gone. */
  forget(g: Grant, reschedule = true): boolean {
    const k = pairKey(g.key, g.owner);
    if (this.#grants.get(k) !== g) return false;
    this.#grants.delete(k);
    if (reschedule) this.#schedule();
    return true;
  }

  /** Forgets `g` and gives its count back (batched). Only the caller that removes it gives it back. */
  drop(g: Grant, reschedule = true): void {
    if (this.forget(g, reschedule)) this.#giveBack(g);
  }

  /** The count (key, owner) keeps while it waits, if any. */
  waiting(key: string, owner: string): Grant | undefined {
    return this.#waiting.get(pairKey(key, owner));
  }

  /**
   * Records the count a refused waiting acquire kept: the pair's kept count if it had one, else
   * its grant's (refused now, the grant is gone), else a fresh one.
   */
  keepWaiting(w: Grant): void {
    const k = pairKey(w.key, w.owner);
    const g = this.#grants.get(k);
    if (this.#waiting.has(k)) {
      if (g) this.drop(g);
      return;
    }
    if (g) this.forget(g);
    this.#waiting.set(k, w);
  }

  /**
   * The pair's kept count is now its grant's, until `expiresAt`; if the pair somehow has a grant
   * already, that one stays and the kept count is given back.
   */
  promote(w: Grant, expiresAt: number): void {
    const k = pairKey(w.key, w.owner);
    if (this.#waiting.get(k) !== w) return;
    this.#waiting.delete(k);
    if (this.#grants.has(k)) {
      this.#giveBack(w);
      return;
    }
    w.expiresAt = expiresAt;
    this.record(w, undefined);
  }

  /** The pair stopped waiting without a grant: its kept count goes back (batched). */
  stopWaiting(w: Grant): void {
    const k = pairKey(w.key, w.owner);
    if (this.#waiting.get(k) !== w) return;
    this.#waiting.delete(k);
    this.#giveBack(w);
  }

  #giveBack(g: Grant): void {
    if (g.session.dead) return;
    const ids = this.#toUnlock.get(g.session);
    if (ids) {
      ids.push(g.id);
      return;
    }
    this.#toUnlock.set(g.session, [g.id]);
    queueMicrotask(() => this.#flush(g.session));
  }

  /**
   * The server has dropped every count `s` held: its grants are gone, nothing to give back.
   * Returns their keys, which are free now (unless held by others).
   */
  sessionEnded(s: LockSession): string[] {
    const keys: string[] = [];
    for (const [k, g] of this.#grants)
      if (g.session === s) {
        this.#grants.delete(k);
        keys.push(g.key);
      }
    for (const [k, w] of this.#waiting) if (w.session === s) this.#waiting.delete(k);
    this.#toUnlock.delete(s);
    this.#schedule();
    return keys;
  }

  /** Forgets every grant and stops the sweep; true if there were any. */
  close(): boolean {
    this.#closed = true;
    clearTimeout(this.#sweepTimer);
    const had = this.#grants.size > 0;
    this.#grants.clear();
    this.#waiting.clear();
    return had;
  }

  #flush(s: LockSession): void {
    const ids = this.#toUnlock.get(s);
    this.#toUnlock.delete(s);
    if (!ids || s.dead) return;
    this.#unlock(s, ids).then(
      (unlocked) => {
        // The session did not hold a count we gave it: its lock state is not what we think.
        if (!unlocked.every(Boolean)) s.end('an unlock found no lock to give back');
      },
      () => {}, // the session has ended already: the server gave every count back
    );
  }

  /** Gives back the counts of grants past their expiry. Runs from a timer: never throws. */
  #sweep(): void {
    this.#sweepTimer = undefined;
    try {
      const t = now();
      for (const g of [...this.#grants.values()]) if (g.expiresAt <= t) this.drop(g, false);
    } finally {
      this.#schedule();
    }
  }

  #schedule(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const g of this.#grants.values()) next = Math.min(next, g.expiresAt);
    if (this.#sweepTimer && next === this.#sweepAt) return;
    clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#sweepAt = next;
    if (next === Number.POSITIVE_INFINITY || this.#closed) return;
    this.#sweepTimer = setTimeout(() => this.#sweep(), Math.max(0, next - now()));
    // The grants do not keep the process alive; the work they protect does.
    this.#sweepTimer.unref?.();
  }
}
