/**
 * Leases and permits handed over at a release (see release-5.lua): a waiter whose subscription
 * names it joins a key's waiters with its TTL, its limit and an anchor, an instant of this
 * process's clock taken before its first waiting try was sent. A release that frees what it waits
 * for grants it to the first such waiter in the same script, with a TTL that starts after the
 * anchor, and tells that waiter's backend the fence and the anchor. The waiter's next try then
 * takes the grant here, with no round trip, and counts its validity from the anchor.
 *
 * What this keeps, per (key, owner), is the waiter's stay: from its first waiting try to its grant,
 * or to its leaving. A long stay renews its anchor (see `member`): a hand counts from the anchor
 * of the member it was made for, so an old anchor would leave a handed lease little or none of
 * its TTL. A hand is only taken by the stay it was made for (one of its anchors, and its limit);
 * a hand for a stay that ended with a grant is a late copy of what the owner already holds; one
 * for a stay that left, or that nobody here waits for, is given back at once (`giveBack`), which
 * hands the key on to the next waiter.
 */

/** How long an ended stay is remembered, for a hand still on its way: as long as a key's waiters live. */
const REMEMBER_MS = 60_000;

interface Stay {
  /** The waiters' member it joins as: `<backend id> \0<ttl>\0<anchor>\0<limit>\0<owner>`. */
  member: string;
  /**
   * The member it joined as before its last renewal, until a reply shows the renewal done: the
   * next try replaces it again, so that the stay is never among the waiters twice.
   */
  replacing: string | undefined;
  /** The limit it waits under: undefined for a lease. */
  readonly limit: number | undefined;
  /**
   * Every anchor it has joined with, the newest (its member's) last: microseconds of this
   * process's `performance.now()`, as a member and a hand carry them. A hand made for an earlier
   * member is still this stay's.
   */
  readonly anchors: string[];
  state: 'waiting' | 'granted' | 'left';
  /** A hand that arrived and is not yet taken: its fence, and the anchor it was made for. */
  hand?: { fence: number; anchor: string };
  /** When it last sent a try that moved the waiters' expiry a minute on (confirmed by its reply). */
  refreshedAt: number;
}

/** How long after a waiter moved the waiters' expiry a minute on its tries leave it alone (see acquire-5.lua). */
const REFRESH_MS = 30_000;

/** A grant handed over: its fence, and the instant its validity counts from. */
export interface Hand {
  readonly fence: number;
  readonly validFrom: number;
}

/**
 * The share of its TTL a stay's anchor may age before its next try renews it. Renewing costs that
 * try two or three commands; at a TTL of 30 s it happens about every 7.5 s of waiting. A handed
 * lease then keeps three quarters of its TTL, less the time to the next try (a fallback poll:
 * about a second, or the holder's TTL if shorter).
 */
const RENEW_AFTER = 0.25;

/** What a waiting try sends: the member it joins as, and the member that one replaces ('' if none). */
export interface Joining {
  readonly member: string;
  readonly replaces: string;
}

/** One string for a (key, owner) pair: neither holds a NUL. */
export const pairOf = (key: string, owner: string) => `${key}\0${owner}`;

export class Handoffs {
  readonly #id: string;
  readonly #giveBack: (key: string, owner: string, limit: number | undefined) => void;
  readonly #stays = new Map<string, Stay>();
  /** Ended stays, oldest first, forgotten after REMEMBER_MS. */
  readonly #ended: Array<{ pair: string; stay: Stay; at: number }> = [];

  /**
   * @param id - This backend object's id, which names its wake-up channel.
   * @param giveBack - Releases a hand nobody here takes (best effort; the lease ends at its TTL otherwise).
   */
  constructor(id: string, giveBack: (key: string, owner: string, limit: number | undefined) => void) {
    this.#id = id;
    this.#giveBack = giveBack;
  }

  /**
   * What a waiting try of a lease or a permit (`limit`) joins as: its stay's member, made on the
   * first try, and renewed with a new anchor once the anchor is older than a quarter of `ttl`.
   */
  member(key: string, owner: string, ttl: number, limit: number | undefined): Joining {
    const pair = pairOf(key, owner);
    const stay = this.#stays.get(pair);
    const at = performance.now();
    if (stay?.state === 'waiting') {
      // One renewal at a time: while one's outcome is unknown (its reply lost), the next try sends
      // the same pair again, which the script applies once. So at most one of the two is in line.
      if (stay.replacing === undefined && at - Number(stay.anchors.at(-1)) / 1000 > ttl * RENEW_AFTER) {
        const anchor = anchorAt(at);
        stay.replacing = stay.member;
        stay.anchors.push(anchor);
        stay.member = memberOf(this.#id, ttl, anchor, limit, owner);
      }
      return { member: stay.member, replaces: stay.replacing ?? '' };
    }
    this.#forgetOld();
    const anchor = anchorAt(at);
    const made: Stay = {
      member: memberOf(this.#id, ttl, anchor, limit, owner),
      replacing: undefined,
      limit,
      anchors: [anchor],
      state: 'waiting',
      refreshedAt: Number.NEGATIVE_INFINITY,
    };
    this.#stays.set(pair, made);
    return { member: made.member, replaces: '' };
  }

  /** A try of (key, owner) that sent `joining` was answered: a renewal it carried is done. */
  answered(key: string, owner: string, joining: Joining): void {
    const stay = this.#stays.get(pairOf(key, owner));
    if (stay && joining.replaces !== '' && stay.member === joining.member) stay.replacing = undefined;
  }

  /** Takes the hand that arrived for the waiting (key, owner) under `limit`, ending its stay; undefined if none. */
  take(key: string, owner: string, limit: number | undefined): Hand | undefined {
    const pair = pairOf(key, owner);
    const stay = this.#stays.get(pair);
    const hand = stay?.state === 'waiting' && stay.limit === limit ? stay.hand : undefined;
    if (hand === undefined) return undefined;
    // Its one hand has arrived: no copy can follow, so nothing is left to remember.
    this.#stays.delete(pair);
    return { fence: hand.fence, validFrom: Number(hand.anchor) / 1000 };
  }

  /** Whether the waiting (key, owner) moved the waiters' expiry on recently enough that its next try need not. */
  fresh(key: string, owner: string): boolean {
    const stay = this.#stays.get(pairOf(key, owner));
    return stay?.state === 'waiting' && performance.now() - stay.refreshedAt < REFRESH_MS;
  }

  /** A try of (key, owner) sent at `at`, which moved the waiters' expiry on, was answered: it joined. */
  refreshed(key: string, owner: string, at: number): void {
    const stay = this.#stays.get(pairOf(key, owner));
    if (stay?.state === 'waiting' && at > stay.refreshedAt) stay.refreshedAt = at;
  }

  /** A try of (key, owner) was granted: its stay is over, and a hand still to come is a copy of that grant. */
  granted(key: string, owner: string): void {
    const pair = pairOf(key, owner);
    const stay = this.#stays.get(pair);
    if (stay?.state === 'waiting') this.#end(pair, stay, 'granted');
  }

  /**
   * (key, owner) stopped waiting: a hand here, or one still to come, is given back. Returns the
   * members it may be among the waiters as, if it had a stay.
   */
  left(key: string, owner: string): string[] | undefined {
    const pair = pairOf(key, owner);
    const stay = this.#stays.get(pair);
    if (stay?.state !== 'waiting') return undefined;
    const unclaimed = stay.hand !== undefined;
    this.#end(pair, stay, 'left');
    if (unclaimed) this.#giveBack(key, owner, stay.limit);
    return stay.replacing ? [stay.member, stay.replacing] : [stay.member];
  }

  /**
   * A hand of `key` to `owner` arrived, with its fence, anchor and limit (undefined: a lease).
   * True: keep it for the owner's waiter, which `listening` says is here (wake it). False: it
   * was a copy, or it was given back.
   */
  handed(
    key: string,
    owner: string,
    grant: { fence: number; anchor: string; limit: number | undefined },
    listening: boolean,
  ): boolean {
    const { fence, anchor, limit } = grant;
    const pair = pairOf(key, owner);
    const stay = this.#stays.get(pair);
    if (stay && !stay.anchors.includes(anchor)) return false; // another stay of this owner: not this one's hand
    if (stay?.state === 'granted') return false;
    if (stay?.state === 'waiting' && stay.limit === limit && listening && Number.isSafeInteger(fence)) {
      stay.hand = { fence, anchor };
      return true;
    }
    if (stay?.state === 'waiting') this.#end(pair, stay, 'left');
    this.#giveBack(key, owner, limit);
    return false;
  }

  #end(pair: string, stay: Stay, state: 'granted' | 'left'): void {
    stay.state = state;
    stay.hand = undefined;
    this.#ended.push({ pair, stay, at: performance.now() });
  }

  #forgetOld(): void {
    const before = performance.now() - REMEMBER_MS;
    while (this.#ended.length > 0 && this.#ended[0]!.at < before) {
      const { pair, stay } = this.#ended.shift()!;
      if (this.#stays.get(pair) === stay) this.#stays.delete(pair);
    }
  }
}

/** An anchor read at `at` (ms): floored microseconds, so that it is never later than the instant read. */
const anchorAt = (at: number) => String(Math.floor(at * 1000));

const memberOf = (id: string, ttl: number, anchor: string, limit: number | undefined, owner: string) =>
  `${id} \0${ttl}\0${anchor}\0${limit ?? 1}\0${owner}`;
