import type { Unsubscribe } from '@oncelock/core';
import { type Connection, connection } from './connection.js';

interface Channel {
  readonly listeners: Set<() => void>;
  /** Resolves once the server has confirmed the SUBSCRIBE. */
  readonly live: Promise<unknown>;
}

/**
 * Release notifications: one subscriber connection per backend, made on the first wait and
 * shared by every waiter; one SUBSCRIBE per key that has waiters, dropped with its last waiter.
 * A notification lost while the connection is down is covered by core's fallback poll, and
 * ioredis subscribes again after a reconnect.
 */
export class Notifier {
  readonly #source: Connection;
  readonly #timeout: number;
  readonly #channels = new Map<string, Channel>();
  #subscriber: Connection | undefined;

  constructor(source: Connection, timeout: number) {
    this.#source = source;
    this.#timeout = timeout;
  }

  async subscribe(channel: string, listener: () => void): Promise<Unsubscribe> {
    const sub = this.#connect();
    let ch = this.#channels.get(channel);
    if (!ch) {
      const live = sub.run((c) => c.subscribe(channel));
      const created: Channel = { listeners: new Set(), live };
      ch = created;
      this.#channels.set(channel, created);
      live.catch(() => {
        if (this.#channels.get(channel) === created) this.#channels.delete(channel);
      });
    }
    const joined = ch;
    joined.listeners.add(listener);
    try {
      await joined.live;
    } catch (error) {
      joined.listeners.delete(listener);
      throw error;
    }
    return () => {
      joined.listeners.delete(listener);
      if (joined.listeners.size > 0 || this.#channels.get(channel) !== joined) return;
      this.#channels.delete(channel);
      sub.client.unsubscribe(channel).catch(() => {});
    };
  }

  async close(): Promise<void> {
    this.#channels.clear();
    await this.#subscriber?.close();
  }

  #connect(): Connection {
    if (this.#subscriber) return this.#subscriber;
    // A connection in subscriber mode can send nothing else, so it is a copy of the client.
    const sub = connection(this.#source.client.duplicate(), true, this.#timeout);
    sub.client.on('message', (channel: string) => {
      const ch = this.#channels.get(channel);
      if (!ch) return;
      for (const listener of [...ch.listeners]) {
        try {
          listener();
        } catch {
          // A waiter's wake-up must not stop the others'.
        }
      }
    });
    this.#subscriber = sub;
    return sub;
  }
}
