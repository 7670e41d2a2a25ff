import type { Unsubscribe } from '@oncelock/core/backend';
import type { Dedicated } from './db.js';

/**
 * One LISTEN connection per backend, shared by every waiter. A notification's payload is the
 * released key; it wakes that key's listeners. If the connection drops, every listener is woken
 * (a release may have been missed; waiters then try again) and the connection is reopened while
 * anyone still listens. Notifications can be lost that way: core's waiters keep a fallback poll.
 */
export class Listener {
  readonly #open: () => Promise<Dedicated>;
  readonly #channel: string;
  readonly #watchers = new Map<string, Set<() => void>>();
  #conn: Promise<Dedicated> | undefined;
  #live: Dedicated | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #closed = false;

  constructor(open: () => Promise<Dedicated>, channel: string) {
    this.#open = open;
    this.#channel = channel;
  }

  async subscribe(key: string, listener: () => void): Promise<Unsubscribe> {
    await this.#connection();
    const set = this.#watchers.get(key) ?? new Set<() => void>();
    this.#watchers.set(key, set);
    // A wrapper per call, so subscribing the same function twice needs two unsubscribes.
    const entry = () => listener();
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.#watchers.get(key) === set) this.#watchers.delete(key);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#watchers.clear();
    const conn = this.#conn;
    this.#conn = undefined;
    this.#live = undefined;
    if (conn) (await conn.catch(() => undefined))?.destroy();
  }

  #connection(): Promise<Dedicated> {
    this.#conn ??= this.#connect().catch((error) => {
      this.#conn = undefined;
      throw error;
    });
    return this.#conn;
  }

  async #connect(): Promise<Dedicated> {
    const conn = await this.#open();
    let ended = false;
    const lost = () => {
      if (ended) return;
      ended = true;
      conn.destroy();
      this.#onLost(conn);
    };
    conn.client.on('error', lost);
    conn.client.on('end', lost);
    conn.client.on('notification', (message) => {
      if (message.channel !== this.#channel || message.payload === undefined) return;
      for (const fn of this.#watchers.get(message.payload) ?? []) queueMicrotask(fn);
    });
    try {
      await conn.client.query(`LISTEN "${this.#channel}"`);
    } catch (error) {
      lost();
      throw error;
    }
    if (this.#closed) {
      lost();
      throw new Error('backend closed while listening');
    }
    this.#failures = 0;
    this.#live = conn;
    return conn;
  }

  #onLost(conn: Dedicated): void {
    if (this.#live === conn) {
      this.#live = undefined;
      this.#conn = undefined;
    }
    for (const set of this.#watchers.values()) for (const fn of set) queueMicrotask(fn);
    if (!this.#closed && this.#watchers.size > 0) this.#reopenLater();
  }

  #reopenLater(): void {
    clearTimeout(this.#retry);
    const delay = Math.min(100 * 2 ** this.#failures++, 5000);
    this.#retry = setTimeout(() => {
      if (this.#closed || this.#watchers.size === 0) return;
      this.#connection().catch(() => this.#reopenLater());
    }, delay);
    this.#retry.unref?.();
  }
}
