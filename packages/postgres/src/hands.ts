import { pairKey } from './batch.js';

/**
 * A key a release handed to one of this backend's waiters (see sql/hand.ts): the grant's fence
 * and the terms of the join it was handed on.
 */
export interface Hand {
  readonly fence: number;
  /** This process's performance.now() when it sent that join: the grant's TTL started after it. */
  readonly anchor: number;
  readonly ttl: number;
}

/** What is known of a pair that waited here. */
interface Pair {
  /** The send time of the latest acquire whose reply was read (or of the hand last claimed). */
  sent: number;
  /** Whether that reply was a grant. */
  granted: boolean;
  /** A hand not yet claimed. */
  hand: Hand | undefined;
  /** The anchor of the hand last claimed: that hand, arriving again, is no new one. */
  claimed: number;
  /** When its subscription here left; undefined while it is here. */
  leftAt: number | undefined;
}

/**
 * How long a pair is remembered after its subscription left: a hand still on its way for it is
 * then told stale (made before a reply already read) from unclaimed. NOTIFYs arrive in far less.
 */
const REMEMBER_MS = 60_000;

const now = () => performance.now();

/**
 * The hands a backend's waiters receive, and which of them are good. A hand and an acquire's reply
 * for one pair come on two connections, in either order; which is newer is told by the anchor:
 * a hand is good only if its anchor is at least the send time of every reply read for the pair
 * (a later reply, granted or refused, is the newer truth), and a reply sent no later than a good
 * hand's anchor leaves the hand standing. A good hand that nobody here will claim (no
 * subscription of the pair, or it left before claiming) is released at once, so that it goes on
 * to the next waiter; a stale one is left alone: the newer reply already answered for the row.
 */
export class Hands {
  readonly #pairs = new Map<string, Pair>();
  readonly #run: (key: string, owner: string, fn: () => Promise<unknown>) => Promise<unknown>;
  readonly #release: (key: string, owner: string) => Promise<unknown>;
  readonly #stopped: (key: string, owner: string) => void;

  /**
   * `run` orders work on a pair after the pair's calls in flight; `release` releases a handed
   * grant nobody claims (in `run`); `stopped` runs (in `run`) when a pair stops waiting with no
   * hand to release.
   */
  constructor(
    run: (key: string, owner: string, fn: () => Promise<unknown>) => Promise<unknown>,
    release: (key: string, owner: string) => Promise<unknown>,
    stopped: (key: string, owner: string) => void = () => {},
  ) {
    this.#run = run;
    this.#release = release;
    this.#stopped = stopped;
  }

  /** An acquire of (key, owner) is about to give terms for a hand: the pair is tracked from now on. */
  track(key: string, owner: string): void {
    const k = pairKey(key, owner);
    const p = this.#pairs.get(k);
    if (p) p.leftAt = undefined;
    else
      this.#pairs.set(k, {
        sent: Number.NEGATIVE_INFINITY,
        granted: false,
        hand: undefined,
        claimed: Number.NEGATIVE_INFINITY,
        leftAt: undefined,
      });
  }

  /** Reads an acquire's reply for (key, owner), sent at `sent`: it supersedes an older hand. */
  replied(key: string, owner: string, sent: number, granted: boolean): void {
    if (this.#pairs.size === 0) return;
    const p = this.#pairs.get(pairKey(key, owner));
    if (!p || sent < p.sent) return;
    p.sent = sent;
    p.granted = granted;
    if (granted || (p.hand && p.hand.anchor < sent)) p.hand = undefined;
  }

  /**
   * A hand arrived for (key, owner); `watched`: a subscription of the pair is here. Returns true
   * if it is kept for the pair's next acquire (the subscription is to be woken).
   */
  arrived(key: string, owner: string, hand: Hand, watched: boolean): boolean {
    const p = this.#pairs.get(pairKey(key, owner));
    if (p && (hand.anchor < p.sent || hand.anchor <= p.claimed)) return false;
    if (p && watched) {
      p.hand = hand;
      return true;
    }
    this.#releaseNow(key, owner);
    return false;
  }

  /**
   * Takes the pair's hand for an acquire of `ttl`. A hand on a shorter TTL than asked is dropped:
   * the acquire then runs its statement, which renews the handed row as a re-entrant grant.
   */
  claim(key: string, owner: string, ttl: number): Hand | undefined {
    if (this.#pairs.size === 0) return undefined;
    const p = this.#pairs.get(pairKey(key, owner));
    const hand = p?.hand;
    if (!p || !hand) return undefined;
    p.hand = undefined;
    if (hand.ttl < ttl) return undefined;
    p.claimed = hand.anchor;
    p.granted = true;
    return hand;
  }

  /** The pair's subscription left: a hand it did not claim is released; else `stopped` runs. */
  left(key: string, owner: string): void {
    this.#run(key, owner, async () => {
      const k = pairKey(key, owner);
      const p = this.#pairs.get(k);
      const hand = p?.hand;
      if (p) {
        p.hand = undefined;
        p.leftAt = now();
        // Moved last, so that pairs that left are in the order they left.
        this.#pairs.delete(k);
        this.#pairs.set(k, p);
        this.#forgetOld();
      }
      if (hand && !p?.granted) await this.#release(key, owner);
      else this.#stopped(key, owner);
    }).catch(() => {}); // best effort: the handed row ends at its TTL (advisory mode: with the count)
  }

  #releaseNow(key: string, owner: string): void {
    this.#run(key, owner, () => this.#release(key, owner)).catch(() => {});
  }

  #forgetOld(): void {
    const before = now() - REMEMBER_MS;
    for (const [k, p] of this.#pairs) {
      if (p.leftAt === undefined) continue;
      if (p.leftAt > before) break;
      this.#pairs.delete(k);
    }
  }
}
