import { type Connection, connection } from './connection.js';

/**
 * The one subscriber connection of a backend, made on first use: a connection in subscriber mode
 * can send nothing else, so it is a copy of the backend's client. Release wake-ups (notifier.ts)
 * and topics (topics.ts) share it, each channel with one handler. ioredis subscribes again to
 * every channel after a reconnect (`autoResubscribe`, on by default); a message sent while the
 * connection is down is lost, which both users allow for.
 */
export class Subscriber {
  readonly #source: Connection;
  readonly #timeout: number;
  readonly #handlers = new Map<string, (message: string) => void>();
  /** The SUBSCRIBE of each channel: sent once, and again after one that failed. */
  readonly #live = new Map<string, Promise<unknown>>();
  #conn: Connection | undefined;

  constructor(source: Connection, timeout: number) {
    this.#source = source;
    this.#timeout = timeout;
  }

  /**
   * Hands each message on `channel` to `handler` (replacing the channel's handler, if any), and
   * resolves once Redis has confirmed the subscription. A failed SUBSCRIBE rejects, and the next
   * call sends it again.
   */
  subscribe(channel: string, handler: (message: string) => void): Promise<unknown> {
    this.#handlers.set(channel, handler);
    let live = this.#live.get(channel);
    if (!live) {
      const sent = this.#open()
        .run((c) => c.subscribe(channel))
        .catch((error: unknown) => {
          if (this.#live.get(channel) === sent) this.#live.delete(channel);
          throw error;
        });
      live = sent;
      this.#live.set(channel, live);
    }
    return live;
  }

  /** Stops handing on `channel`'s messages and unsubscribes, best effort: a stray message is dropped. */
  unsubscribe(channel: string): void {
    this.#handlers.delete(channel);
    this.#live.delete(channel);
    // Commands on one connection keep their order: a later SUBSCRIBE of the channel comes after this.
    this.#conn?.run((c) => c.unsubscribe(channel)).catch(() => {});
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    this.#live.clear();
    await this.#conn?.close();
  }

  #open(): Connection {
    if (this.#conn) return this.#conn;
    const conn = connection(this.#source.client.duplicate(), true, this.#timeout);
    conn.client.on('message', (channel: string, message: string) => {
      try {
        this.#handlers.get(channel)?.(message);
      } catch {
        // A listener's failure must never break the subscriber connection.
      }
    });
    this.#conn = conn;
    return conn;
  }
}
