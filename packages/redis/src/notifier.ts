import type { Unsubscribe } from '@oncelock/core/backend';
import { type Connection, connection } from './connection.js';

/**
 * Wake-ups: one subscriber connection per backend, made on the first wait, subscribed to one
 * channel of this backend's own. A waiter joins the key's waiters in Redis with its next acquire
 * (see acquire-5.lua); a release pops the first of them and publishes the lock's name on that
 * waiter's channel, so one release wakes one backend, not every process that waits. Here the
 * message wakes the waiter it names (or, if that one has gone, the longest-waiting other one for
 * the same lock). A wake-up for a lock nobody here waits for any more is passed on
 * (`onUnheard`), so that it is not lost. A wake-up lost while the connection is
 * down is covered by core's fallback poll, and ioredis subscribes again after a reconnect.
 */
export class Notifier {
  readonly #source: Connection;
  readonly #timeout: number;
  readonly #channel: string;
  readonly #onUnheard: (lockKey: string) => void;
  /** Listeners per lock key (the Redis key, which is what a wake-up names), oldest first, with their owners. */
  readonly #listeners = new Map<string, Map<() => void, string | undefined>>();
  #subscriber: Connection | undefined;
  /** The SUBSCRIBE to this backend's channel: sent once, and again after one that failed. */
  #live: Promise<unknown> | undefined;

  constructor(source: Connection, timeout: number, channel: string, onUnheard: (lockKey: string) => void) {
    this.#source = source;
    this.#timeout = timeout;
    this.#channel = channel;
    this.#onUnheard = onUnheard;
  }

  async subscribe(lockKey: string, listener: () => void, owner?: string): Promise<Unsubscribe> {
    const live = this.#subscribed();
    let waiting = this.#listeners.get(lockKey);
    if (!waiting) {
      waiting = new Map();
      this.#listeners.set(lockKey, waiting);
    }
    const joined = waiting;
    // A wrapper per call, so that subscribing one function twice takes two unsubscribes.
    const entry = () => listener();
    joined.set(entry, owner);
    const leave = () => {
      joined.delete(entry);
      if (joined.size === 0 && this.#listeners.get(lockKey) === joined) this.#listeners.delete(lockKey);
    };
    try {
      await live;
    } catch (error) {
      leave();
      throw error;
    }
    return leave;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#subscriber?.close();
  }

  #subscribed(): Promise<unknown> {
    this.#subscriber ??= this.#open();
    const sub = this.#subscriber;
    this.#live ??= sub
      .run((c) => c.subscribe(this.#channel))
      .catch((error: unknown) => {
        this.#live = undefined; // the server was down: the next waiter sends it again
        throw error;
      });
    return this.#live;
  }

  #open(): Connection {
    // A connection in subscriber mode can send nothing else, so it is a copy of the client.
    const conn = connection(this.#source.client.duplicate(), true, this.#timeout);
    conn.client.on('message', (_channel: string, message: string) => {
      // '<owner>\0<lock key>' (release-5.lua); neither holds a NUL.
      const split = message.indexOf('\0');
      const owner = message.slice(0, split);
      const lockKey = message.slice(split + 1);
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
      try {
        wake?.();
      } catch {
        // A waiter's wake-up must never break the subscriber connection.
      }
    });
    return conn;
  }
}
