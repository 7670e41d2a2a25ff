import type { Unsubscribe } from '@oncelock/core/backend';
import type { Dedicated } from './db.js';

/** The open LISTEN connection, and the LISTEN of each topic channel sent on it. */
interface Live {
  readonly conn: Dedicated;
  /** Resolves once the channel's LISTEN has run on this connection. */
  readonly channels: Map<string, Promise<unknown>>;
}

/** Adds a wrapper of `listener` to `name`'s set in `map`, so that adding one function twice needs two removals. */
function addTo(map: Map<string, Set<() => void>>, name: string, listener: () => void) {
  const set = map.get(name) ?? new Set<() => void>();
  map.set(name, set);
  const entry = () => listener();
  set.add(entry);
  /** Removes it; true when `name` has no listener left. */
  return (): boolean => {
    set.delete(entry);
    if (set.size > 0 || map.get(name) !== set) return false;
    map.delete(name);
    return true;
  };
}

const wake = (sets: Iterable<Set<() => void>>) => {
  for (const set of sets) for (const fn of set) queueMicrotask(fn);
};

/**
 * One LISTEN connection per backend, shared by every waiter and every topic listener.
 *
 * Releases come on one channel with the released key as payload; they wake that key's watchers.
 * Each wake-up topic has a channel of its own (see topics.ts), LISTENed while it has listeners.
 * If the connection drops, every release watcher is woken at once (a release may have been
 * missed; waiters then try again), and the connection is reopened while anyone still listens,
 * with every topic channel LISTENed again; topic listeners are woken once that has run, since a
 * wake-up sent while nobody listened is lost. Core keeps a fallback poll for both.
 */
export class Listener {
  readonly #open: () => Promise<Dedicated>;
  readonly #channel: string;
  readonly #watchers = new Map<string, Set<() => void>>();
  readonly #topics = new Map<string, Set<() => void>>();
  #conn: Promise<Live> | undefined;
  #live: Live | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  /** A connection was lost: topic listeners are woken when the next one listens. */
  #lost = false;
  #closed = false;

  constructor(open: () => Promise<Dedicated>, channel: string) {
    this.#open = open;
    this.#channel = channel;
  }

  /** Watches `key`'s releases; resolves once the release channel is LISTENed. */
  async subscribe(key: string, listener: () => void): Promise<Unsubscribe> {
    await this.#connection();
    const remove = addTo(this.#watchers, key, listener);
    return () => void remove();
  }

  /** Calls `listener` on every NOTIFY of `channel`; resolves once its LISTEN has run. */
  async listen(channel: string, listener: () => void): Promise<Unsubscribe> {
    // Added first, so that a connection opening now LISTENs to it too.
    const remove = addTo(this.#topics, channel, listener);
    const unsubscribe = () => {
      if (remove()) this.#unlisten(channel);
    };
    try {
      const live = await this.#connection();
      await this.#listenOn(live, channel);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#watchers.clear();
    this.#topics.clear();
    const conn = this.#conn;
    this.#conn = undefined;
    this.#live = undefined;
    if (conn) (await conn.catch(() => undefined))?.conn.destroy();
  }

  /** LISTENs `channel` on `live` unless that is done or under way; statements on one client run in order. */
  #listenOn(live: Live, channel: string): Promise<unknown> {
    let listening = live.channels.get(channel);
    if (!listening) {
      listening = live.conn.client.query(`LISTEN ${live.conn.client.escapeIdentifier(channel)}`);
      live.channels.set(channel, listening);
    }
    return listening;
  }

  /** The last listener of `channel` has gone: UNLISTEN (best effort; a later LISTEN is queued after it). */
  #unlisten(channel: string): void {
    const live = this.#live;
    if (!live?.channels.delete(channel)) return;
    live.conn.client.query(`UNLISTEN ${live.conn.client.escapeIdentifier(channel)}`).catch(() => {});
  }

  #connection(): Promise<Live> {
    this.#conn ??= this.#connect().catch((error) => {
      this.#conn = undefined;
      throw error;
    });
    return this.#conn;
  }

  async #connect(): Promise<Live> {
    const conn = await this.#open();
    const live: Live = { conn, channels: new Map() };
    let ended = false;
    const lost = () => {
      if (ended) return;
      ended = true;
      conn.destroy();
      this.#onLost(live);
    };
    conn.client.on('error', lost);
    conn.client.on('end', lost);
    conn.client.on('notification', ({ channel, payload }) => {
      if (channel !== this.#channel) wake([this.#topics.get(channel) ?? new Set()]);
      else if (payload !== undefined) wake([this.#watchers.get(payload) ?? new Set()]);
    });
    try {
      await Promise.all([
        conn.client.query(`LISTEN ${conn.client.escapeIdentifier(this.#channel)}`),
        ...[...this.#topics.keys()].map((channel) => this.#listenOn(live, channel)),
      ]);
    } catch (error) {
      lost();
      throw error;
    }
    if (this.#closed) {
      lost();
      throw new Error('backend closed while listening');
    }
    this.#failures = 0;
    this.#live = live;
    if (this.#lost) {
      this.#lost = false;
      wake(this.#topics.values());
    }
    return live;
  }

  #onLost(live: Live): void {
    if (this.#live === live) {
      this.#live = undefined;
      this.#conn = undefined;
    }
    this.#lost = true;
    wake(this.#watchers.values());
    if (!this.#closed && this.#listening()) this.#reopenLater();
  }

  #listening(): boolean {
    return this.#watchers.size > 0 || this.#topics.size > 0;
  }

  #reopenLater(): void {
    clearTimeout(this.#retry);
    const delay = Math.min(100 * 2 ** this.#failures++, 5000);
    this.#retry = setTimeout(() => {
      if (this.#closed || !this.#listening()) return;
      this.#connection().catch(() => this.#reopenLater());
    }, delay);
    this.#retry.unref?.();
  }
}
