import type { Unsubscribe } from '@oncelock/core/backend';
import { joinWhenLive, type ListenerGroups } from './listener-groups.js';
import type { Subscriber } from './subscriber.js';

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
  /** Listeners per lock key (the Redis key, which is what a wake-up names), oldest first, with their owners. */
  readonly #listeners: ListenerGroups<string | undefined> = new Map();

  /**
   * @param onUnheard - A wake-up for a lock nobody here waits for: pass it on.
   * @param onPopped - Every wake-up: the release took its owner out of the lock's waiters.
   */
  constructor(
    subscriber: Subscriber,
    channel: string,
    onUnheard: (lockKey: string) => void,
    onPopped: (lockKey: string, owner: string) => void,
  ) {
    this.#subscriber = subscriber;
    this.#channel = channel;
    this.#onUnheard = onUnheard;
    this.#onPopped = onPopped;
  }

  subscribe(lockKey: string, listener: () => void, owner?: string): Promise<Unsubscribe> {
    const live = this.#subscriber.subscribe(this.#channel, (message) => this.#wake(message));
    return joinWhenLive(this.#listeners, lockKey, listener, owner, live);
  }

  #wake(message: string): void {
    // '<owner>\0<lock key>' (release-5.lua); neither holds a NUL.
    const split = message.indexOf('\0');
    const owner = message.slice(0, split);
    const lockKey = message.slice(split + 1);
    this.#onPopped(lockKey, owner);
    const waiting = this.#listeners.get(lockKey);
    if (!waiting) {
      this.#onUnheard(lockKey);
      return;
    }
    let wake = waiting.keys().next().value;
    for (const [listener, own] of waiting) {
      if (own === owner) {
        wake = listener;
        break;
      }
    }
    wake?.();
  }
}
