import type { Unsubscribe } from '@oncelock/core/backend';
import { joinWhenLive, type ListenerGroups } from './listener-groups.js';
import type { Subscriber } from './subscriber.js';

/** A hand of `lockKey` to `owner` (a lease, or a permit under `limit`); `listening`: that owner's waiter is here. */
type Handed = (
  lockKey: string,
  owner: string,
  grant: { fence: number; anchor: string; limit: number | undefined },
  listening: boolean,
) => boolean;

/**
 * Wake-ups: the backend's subscriber connection (subscriber.ts), subscribed on the first wait to
 * one channel of this backend's own. A waiter joins the key's waiters in Redis with its next acquire
 * (see acquire-5.lua); a release pops the first of them and publishes the lock's name on that
 * waiter's channel, so one release wakes one backend, not every process that waits. Here the
 * message wakes the waiter it names (or, if that one has gone, the longest-waiting other one for
 * the same lock). A wake-up for a lock nobody here waits for any more is passed on
 * (`onUnheard`), so that it is not lost. A wake-up lost while the connection is
 * down is covered by core's fallback poll, and ioredis subscribes again after a reconnect.
 */
export class Notifier {
  readonly #subscriber: Subscriber;
  readonly #channel: string;
  readonly #onUnheard: (lockKey: string) => void;
  readonly #onPopped: (lockKey: string, owner: string) => void;
  readonly #onHanded: Handed;
  /** Listeners per lock key (the Redis key, which is what a wake-up names), oldest first, with their owners. */
  readonly #listeners: ListenerGroups<string | undefined> = new Map();

  /**
   * @param onUnheard - A wake-up for a lock nobody here waits for: pass it on.
   * @param onPopped - Every wake-up: the release took its owner out of the lock's waiters.
   * @param onHanded - A release handed the lease to its owner (see handoffs.ts): true to wake that owner's waiter.
   */
  constructor(
    subscriber: Subscriber,
    channel: string,
    onUnheard: (lockKey: string) => void,
    onPopped: (lockKey: string, owner: string) => void,
    onHanded: Handed,
  ) {
    this.#subscriber = subscriber;
    this.#channel = channel;
    this.#onUnheard = onUnheard;
    this.#onPopped = onPopped;
    this.#onHanded = onHanded;
  }

  subscribe(lockKey: string, listener: () => void, owner?: string): Promise<Unsubscribe> {
    const live = this.#subscriber.subscribe(this.#channel, (message) => this.#wake(message));
    return joinWhenLive(this.#listeners, lockKey, listener, owner, live);
  }

  /** Whether a waiter here subscribed to `lockKey` as `owner`. */
  listens(lockKey: string, owner: string): boolean {
    return this.#named(lockKey, owner) !== undefined;
  }

  /** The listener of the waiter here that subscribed to `lockKey` as `owner`, if any. */
  #named(lockKey: string, owner: string): (() => void) | undefined {
    for (const [listener, own] of this.#listeners.get(lockKey) ?? []) if (own === owner) return listener;
    return undefined;
  }

  #wake(message: string): void {
    // NUL apart (no owner or key holds one), see release-5.lua: '<owner>\0<lock key>' wakes a
    // waiter; '<owner>\0<lock key>\0<fence>\0<anchor>\0<limit>' hands it the lease or permit.
    // An older release wakes a waiter that joined with its terms as
    // '\0<ttl>\0<anchor>\0<limit>\0<owner>\0<lock key>'.
    const parts = message.split('\0');
    const [owner, lockKey] = parts[0] === '' ? [parts[4] ?? '', parts[5] ?? ''] : [parts[0]!, parts[1] ?? ''];
    this.#onPopped(lockKey, owner);
    const named = this.#named(lockKey, owner);
    if (parts.length === 5 && parts[0] !== '') {
      const limit = Number(parts[4]);
      const grant = { fence: Number(parts[2]), anchor: parts[3]!, limit: limit > 1 ? limit : undefined };
      if (this.#onHanded(lockKey, owner, grant, named !== undefined)) named?.();
      return;
    }
    const waiting = this.#listeners.get(lockKey);
    if (!waiting) {
      this.#onUnheard(lockKey);
      return;
    }
    (named ?? waiting.keys().next().value)?.();
  }
}
