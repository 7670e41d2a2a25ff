import type { AcquireRequest } from '@oncelock/core/backend';
import type { Db } from './db.js';
import type { Hands } from './hands.js';
import type { Listener } from './listener.js';
import { periodic } from './periodic.js';
import { passOnSql, pruneWaitersSql } from './sql/waiters.js';

/**
 * How many times a waiting acquire that was refused, but found no holder to wait behind (the key
 * was freed under it; see sql/waiters.ts), tries again at once.
 */
export const FREED_RETRIES = 3;

/** Expired waiters' rows are pruned once per this many joins. */
const PRUNE_EVERY = 500;

/**
 * A lock session that ended leaves its keys free once the server has ended it too, which can
 * come a little after our side of the connection closed: the keys' next waiters are woken after
 * this long. (Core's fallback poll covers a wake-up that finds the key still held.)
 */
const AFTER_SESSION_END_MS = 100;

/** What either mode needs of the key's waiters, beside its own statements (see sql/waiters.ts). */
export interface Waiters {
  /**
   * The LISTEN session's pid that a waiting acquire names, so that a release wakes it there;
   * null when the caller does not wait or no LISTEN connection is live (then it joins nothing).
   */
  pidFor(request: AcquireRequest): number | null;
  /**
   * Whether a waiting acquire of (key, owner) gives terms for a hand (see sql/hand.ts): only while
   * a subscription of the pair is here to claim it.
   */
  handable(key: string, owner: string): boolean;
  /** Sends the hands this backend's waiters receive, and the leaving of their subscriptions, to `hands`. */
  route(hands: Hands): void;
  /** A waiting acquire's outcome for (key, owner): in the key's waiters now, or not. */
  joined(key: string, owner: string, joined: boolean): void;
  /** Keys whose grants ended without a release (a lock session ended): wake their next waiters. */
  freed(keys: readonly string[]): void;
  /** Stops the timers; nothing is passed on after this. */
  close(): Promise<void>;
}

/**
 * The waiters of a backend: the pid its waiting acquires name, and the passing on of wake-ups
 * that nobody here takes (a waiter that stopped waiting, a wake-up for a waiter that has gone),
 * each one statement on any pooled connection. Without a listener nobody here waits in a queue.
 */
export function waitersOf(db: Db, schema: string, listener: Listener | undefined): Waiters {
  const passOn = passOnSql(schema);
  const prune = periodic(PRUNE_EVERY, () => db.rows(pruneWaitersSql(schema)));
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let closed = false;
  // Best effort: a wake-up lost here is found by core's fallback poll.
  const send = (keys: readonly string[], owners: ReadonlyArray<string | null>) => {
    if (!closed && keys.length > 0) db.rows(passOn, [keys, owners]).catch(() => {});
  };
  listener?.onUnheard((key, owner) => send([key], [owner]));
  return {
    pidFor: (request) => (request.waiting ? (listener?.pid() ?? null) : null),
    handable: (key, owner) => listener?.watches(key, owner) ?? false,
    route(hands) {
      listener?.onHand((key, owner, hand, watched) => hands.arrived(key, owner, hand, watched));
      listener?.onLeft((key, owner) => hands.left(key, owner));
    },
    joined(key, owner, joined) {
      listener?.mark(key, owner, joined);
      if (joined) prune.tick();
    },
    freed(keys) {
      if (closed || keys.length === 0 || !listener) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(
          keys,
          keys.map(() => null),
        );
      }, AFTER_SESSION_END_MS);
      timer.unref?.();
      timers.add(timer);
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await prune.settled();
    },
  };
}
