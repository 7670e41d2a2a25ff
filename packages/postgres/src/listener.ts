import type { Unsubscribe } from '@oncelock/core/backend';
import type { Dedicated } from './db.js';
import type { Hand } from './hands.js';
import { wakeChannel } from './sql/waiters.js';

/** The open LISTEN connection, and the LISTEN of each topic channel sent on it. */
interface Live {
  readonly conn: Dedicated;
  /** The server pid of its session: waiters' rows name it, and its wake channel is named by it. */
  readonly pid: number | undefined;
  /** Resolves once the channel's LISTEN has run on this connection. */
  readonly channels: Map<string, Promise<unknown>>;
}

/** A waiter's subscription: its owner, and whether its last waiting acquire left it in the key's waiters. */
interface Watch {
  readonly owner: string | undefined;
  joined: boolean;
}

/** Subscriptions per key, oldest first. */
type Watchers = Map<string, Map<() => void, Watch>>;

/** What a NOTIFY on the wake channel says: a waiter's wake-up, or with `hand` the key handed to it. */
interface Notice {
  readonly owner: string;
  readonly key: string;
  readonly hand?: Hand;
}

/**
 * A wake-up's payload, `[owner, key]` (see sql/waiters.ts), or a hand's, `[owner, key, fence,
 * anchor, ttl]` (see sql/hand.ts); undefined if it is neither.
 */
function noticeOf(payload: string | undefined): Notice | undefined {
  try {
    const v: unknown = JSON.parse(payload ?? '');
    if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'string') return undefined;
    if (v.length === 2) return { owner: v[0], key: v[1] };
    const [, , fence, anchor, ttl] = v;
    if (v.length === 5 && typeof fence === 'string' && typeof anchor === 'number' && typeof ttl === 'number')
      return { owner: v[0], key: v[1], hand: { fence: Number(fence), anchor, ttl } };
  } catch {}
  return undefined;
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

const wake = (sets: Iterable<Iterable<() => void>>) => {
  for (const set of sets) for (const fn of set) queueMicrotask(fn);
};

/**
 * One LISTEN connection per backend, shared by every waiter and every topic listener.
 *
 * A release wakes one waiter: it NOTIFYs the channel of the waiter's LISTEN session,
 * `oncelock!<pid>`, with `[owner, key]` (see sql/waiters.ts), or hands it the key, with
 * `[owner, key, fence, anchor, ttl]` (see sql/hand.ts; what becomes of a hand: hands.ts). That wakes the subscription of the
 * owner named, or else the key's oldest one here (a subscriber that waits on behalf of others, as
 * BullMQ's put-back jobs do); if nobody here watches the key any more, the wake-up is passed on
 * (`onUnheard`). A subscription that leaves while its owner is among the key's waiters passes its
 * place on the same way. Releases of older releases of this package come on the schema's channel
 * with the key as payload, and wake every watcher of the key. Each wake-up topic has a channel of its own (see topics.ts), LISTENed while it has listeners.
 * If the connection drops, every release watcher is woken at once (a release may have been
 * missed; waiters then try again), and the connection is reopened while anyone still listens,
 * with every topic channel LISTENed again; topic listeners are woken once that has run, since a
 * wake-up sent while nobody listened is lost. Core keeps a fallback poll for both.
 */
export class Listener {
  readonly #open: () => Promise<Dedicated>;
  readonly #channel: string;
  readonly #watchers: Watchers = new Map();
  readonly #topics = new Map<string, Set<() => void>>();
  #conn: Promise<Live> | undefined;
  #live: Live | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  /** A connection was lost: topic listeners are woken when the next one listens. */
  #lost = false;
  #closed = false;
  #unheard: (key: string, owner: string) => void = () => {};
  #handed: (key: string, owner: string, hand: Hand, watched: boolean) => boolean = () => false;
  #left: (key: string, owner: string) => void = () => {};

  constructor(open: () => Promise<Dedicated>, channel: string) {
    this.#open = open;
    this.#channel = channel;
  }

  /** The pid of the live LISTEN session, which hears wake-ups of waiters that name it; undefined while none is live. */
  pid(): number | undefined {
    return this.#live?.pid;
  }

  /** Sets what to do with a wake-up of `owner` for `key` that nobody here takes: pass it on. */
  onUnheard(fn: (key: string, owner: string) => void): void {
    this.#unheard = fn;
  }

  /**
   * Sets what to do with a key handed to `owner` (see hands.ts); `watched` says whether a
   * subscription of the owner is here. It returns true to have that subscription woken.
   */
  onHand(fn: (key: string, owner: string, hand: Hand, watched: boolean) => boolean): void {
    this.#handed = fn;
  }

  /** Sets what to do when the last subscription of `owner` to `key` leaves. */
  onLeft(fn: (key: string, owner: string) => void): void {
    this.#left = fn;
  }

  /** Whether a subscription of `owner` to `key` is here: a hand to it would be claimed. */
  watches(key: string, owner: string): boolean {
    for (const watch of this.#watchers.get(key)?.values() ?? []) if (watch.owner === owner) return true;
    return false;
  }

  /** Watches `key`'s releases for `owner`; resolves once the wake channels are LISTENed. */
  async subscribe(key: string, listener: () => void, owner?: string): Promise<Unsubscribe> {
    await this.#connection();
    let group = this.#watchers.get(key);
    if (!group) {
      group = new Map();
      this.#watchers.set(key, group);
    }
    const joined = group;
    // A wrapper per call, so that subscribing one function twice takes two unsubscribes.
    const entry = () => listener();
    const watch: Watch = { owner, joined: false };
    joined.set(entry, watch);
    return () => {
      if (!joined.delete(entry)) return;
      if (joined.size === 0 && this.#watchers.get(key) === joined) this.#watchers.delete(key);
      if (owner !== undefined && !this.watches(key, owner)) this.#left(key, owner);
      // Still among the key's waiters (it timed out, was aborted, or was woken and gave up): pass its place on.
      if (watch.joined && owner !== undefined) this.#unheard(key, owner);
    };
  }

  /** Records whether `owner`'s last waiting acquire of `key` left it in the key's waiters. */
  mark(key: string, owner: string, joined: boolean): void {
    for (const watch of this.#watchers.get(key)?.values() ?? [])
      if (watch.owner === owner) watch.joined = joined;
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
    let ended = false;
    const lost = () => {
      if (ended) return;
      ended = true;
      conn.destroy();
      this.#onLost(live);
    };
    conn.client.on('error', lost);
    conn.client.on('end', lost);
    const pid = (conn.client as { processID?: number | null }).processID ?? undefined;
    const own = pid === undefined ? undefined : wakeChannel(pid);
    const live: Live = { conn, pid, channels: new Map() };
    conn.client.on('notification', ({ channel, payload }) => {
      if (channel === own) this.#wakeOne(payload);
      else if (channel !== this.#channel) wake([this.#topics.get(channel) ?? new Set()]);
      else if (payload !== undefined) wake([this.#watchers.get(payload)?.keys() ?? []]);
    });
    try {
      await Promise.all([
        conn.client.query(`LISTEN ${conn.client.escapeIdentifier(this.#channel)}`),
        ...(own ? [conn.client.query(`LISTEN ${conn.client.escapeIdentifier(own)}`)] : []),
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
      // Waiters too: their places name the session that was lost, so they join again, naming this one.
      this.#lost = false;
      wake([...this.#topics.values(), ...[...this.#watchers.values()].map((g) => g.keys())]);
    }
    return live;
  }

  /**
   * A wake-up of one waiter: its own subscription, else the key's oldest here, else passed on. A
   * hand wakes the owner's own subscription only, if the hand is kept for it (see hands.ts).
   */
  #wakeOne(payload: string | undefined): void {
    const notice = noticeOf(payload);
    if (!notice) return;
    const { owner, key, hand } = notice;
    const group = this.#watchers.get(key);
    let chosen: (() => void) | undefined;
    let own: Watch | undefined;
    for (const [entry, watch] of group ?? []) {
      chosen ??= entry;
      if (watch.owner === owner) {
        chosen = entry;
        own = watch;
        break;
      }
    }
    if (hand) {
      if (!this.#handed(key, owner, hand, own !== undefined) || !own || !chosen) return;
      // The hand took its place among the key's waiters: nothing to pass on when it leaves.
      own.joined = false;
      queueMicrotask(chosen);
      return;
    }
    if (chosen) queueMicrotask(chosen);
    else this.#unheard(key, owner);
  }

  #onLost(live: Live): void {
    if (this.#live === live) {
      this.#live = undefined;
      this.#conn = undefined;
    }
    this.#lost = true;
    wake([...this.#watchers.values()].map((g) => g.keys()));
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
