import type { AcquireResult, ExtendRequest } from '@oncelock/core/backend';
import { uniquePairs } from './batch.js';
import { GrantLedger } from './grant-ledger.js';
import { Hands } from './hands.js';
import { LockConnection } from './lock-connection.js';
import type { Mode, Shared } from './mode.js';
import { PairQueue } from './pair-queue.js';
import { type PermitRow, permitOutcome, permitsOf } from './permits.js';
import {
  acquireSql,
  closeSql,
  extendMixedSql,
  extendSql,
  permitAcquireSql,
  permitReleaseSql,
  releaseSql,
  unlockSql,
} from './sql/advisory.js';
import { type HolderRow, toHolder } from './sql/holder.js';
import { BY_SESSION, BY_SESSION_SNAPSHOT } from './sql/rows.js';
import { FREED_RETRIES } from './waiters.js';

interface AcquireRow extends PermitRow {
  mine: boolean;
  unlocked: boolean | null;
  /** A plain acquire's: whether the caller is among the key's waiters now. */
  joined?: boolean;
  /** A plain acquire's: nothing was taken, the fence ceiling must be raised first. */
  no_fence?: boolean;
  /** A plain acquire's: refused, the caller waits with terms, and the session keeps its count for it. */
  kept?: boolean | null;
}

const LOST_TRACK = 'an unlock found no lock to give back';

/**
 * Advisory mode: the `locks` row decides who holds a key; a shared advisory lock that the
 * holder's session keeps on the key's lock id says whether that holder is still alive. When the
 * session ends (the process died, the connection broke), its rows are dead at once and the keys
 * are free. A frozen process's rows expire at their TTL by the database clock.
 *
 * All of it runs on one dedicated connection per backend (`LockConnection`), with every grant
 * multiplexed on it. Advisory locks are re-entrant per session and stack, so the backend counts
 * (`GrantLedger`): one count per grant it made, given back exactly once, and every unlock's
 * result is checked. Calls for one (key, owner) run in order (`PairQueue`).
 */
export function advisoryMode(shared: Shared): Mode {
  const { db, options, channel, ready, waiters, advanceFences } = shared;
  const { schema } = options;
  const sql = {
    acquire: acquireSql(schema),
    extend: extendSql(schema),
    release: releaseSql(schema),
    close: closeSql(schema),
    permitAcquire: permitAcquireSql(schema),
    permitRelease: permitReleaseSql(schema),
    extendMixed: extendMixedSql(schema),
  };
  const permits = permitsOf(shared);
  // A session that ends frees its keys: their next waiters are woken.
  const connection = new LockConnection(db, options.timeout, (s) => waiters.freed(grants.sessionEnded(s)));
  const grants = new GrantLedger(async (s, ids) => {
    const row = await connection.exec<{ mine: boolean; unlocked: boolean[] }>(s, 'unlock', unlockSql, [
      s.marker,
      ids,
    ]);
    return row.unlocked;
  });
  const queue = new PairQueue();
  const now = () => performance.now();
  const hands = new Hands(
    (key, owner, fn) => queue.run(key, owner, fn),
    (key, owner) => {
      // A hand nobody claims: its row lives on the count the pair kept while it waited.
      const w = grants.waiting(key, owner);
      if (w && !w.session.dead) grants.promote(w, Number.POSITIVE_INFINITY);
      return releaseOnce(key, owner, undefined);
    },
    (key, owner) => {
      const w = grants.waiting(key, owner);
      if (w) grants.stopWaiting(w);
    },
  );
  waiters.route(hands);

  /** The grant a hand made to (key, owner), if one is here and good for `ttl` (see hands.ts). */
  function claim(key: string, owner: string, ttl: number): AcquireResult | undefined {
    const hand = hands.claim(key, owner, ttl);
    if (!hand) return undefined;
    const w = grants.waiting(key, owner);
    // Its row lives on the count kept while waiting; without it, the acquire's statement decides.
    if (!w || w.session.dead || grants.get(key, owner)) return undefined;
    grants.promote(w, hand.anchor + hand.ttl);
    return { granted: true, fence: hand.fence, validFrom: hand.anchor };
  }

  /**
   * One acquire of a lease, or of a permit under `limit`; `waiter`: the LISTEN pid a waiting
   * caller names, or null; `again`: a plain one may try once more (see refusedPlain); `freed`:
   * tries left after a waiter's refusal found the key freed under it.
   */
  async function acquireOnce(
    key: string,
    owner: string,
    ttl: number,
    limit: number | undefined,
    waiter: number | null,
    again = true,
    freed = FREED_RETRIES,
  ): Promise<AcquireResult> {
    const plain = limit === undefined;
    const handed = plain ? claim(key, owner, ttl) : undefined;
    if (handed) return handed;
    await ready();
    const s = await connection.session();
    let g = grants.get(key, owner);
    if (g && (g.session !== s || g.expiresAt <= now())) {
      grants.drop(g);
      g = undefined;
    }
    // The count a plain waiter kept (one per pair: a grant's, if it has one, stands for it).
    let kept = plain ? grants.waiting(key, owner) : undefined;
    if (kept && (g || kept.session !== s)) {
      grants.stopWaiting(kept);
      kept = undefined;
    }
    grants.holdOff([{ key, owner, ttl }]);
    const sent = now();
    const expiresAt = sent + ttl;
    const id = permits.lockId(key);
    const values = [s.marker, id, key, owner, ttl, g !== undefined || kept !== undefined];
    // Terms for a hand: the anchor is this send time (see sql/hand.ts).
    const anchor = plain && waiter !== null && waiters.handable(key, owner) ? sent : null;
    if (anchor !== null) hands.track(key, owner);
    const row = plain
      ? await connection.exec<AcquireRow>(s, 'acquire', sql.acquire, [...values, waiter, anchor])
      : await connection.exec<AcquireRow>(s, 'permit_acquire', sql.permitAcquire, [...values, limit, waiter]);
    if (row.unlocked === false) {
      s.end(LOST_TRACK);
      throw new Error('the lock connection lost track of its locks');
    }
    if (row.no_fence) {
      await advanceFences();
      return acquireOnce(key, owner, ttl, limit, waiter, again, freed);
    }
    if (plain) hands.replied(key, owner, sent, row.granted_fence !== null);
    if (row.granted_fence === null) {
      if (limit !== undefined) {
        // Someone else holds it now (our earlier grant, if any, was released or taken over),
        // unless the key is held under another limit: then a grant of ours is still what it was.
        if (g && row.held_limit === limit) grants.drop(g);
        if (waiter !== null) waiters.joined(key, owner, row.held_limit === limit);
        return permitOutcome(row);
      }
      // Someone else holds it now: the count this pair had (or took) stays only while it waits.
      if (row.kept) grants.keepWaiting({ key, owner, id, session: s, expiresAt: Number.POSITIVE_INFINITY });
      else if (g) grants.drop(g);
      else if (kept) grants.stopWaiting(kept);
      if (row.permit_limit != null)
        return permits.refusedPlain(
          key,
          row.permit_limit,
          again ? () => acquireOnce(key, owner, ttl, limit, waiter, false) : undefined,
        );
      if (waiter !== null) {
        waiters.joined(key, owner, row.joined === true);
        // Refused by a holder whose release came before our place was taken: try again now.
        if (!row.joined && freed > 0) return acquireOnce(key, owner, ttl, limit, waiter, again, freed - 1);
      }
      // A hand that came while this ran, made after it was sent: the newer truth (see hands.ts).
      return (
        claim(key, owner, ttl) ?? {
          granted: false,
          holder: row.owner ? toHolder(row as HolderRow) : undefined,
        }
      );
    }
    if (waiter !== null) waiters.joined(key, owner, false);
    if (s.dead) throw new Error('the lock connection ended just after the grant');
    if (kept) grants.promote(kept, expiresAt);
    else grants.record({ key, owner, id, session: s, expiresAt }, g);
    return { granted: true, fence: Number(row.granted_fence) };
  }

  async function releaseOnce(key: string, owner: string, limit: number | undefined): Promise<boolean> {
    const g = grants.get(key, owner);
    // Without a grant here, the release is for a grant another process made: it still needs a session.
    const s = g?.session ?? (await connection.session());
    if (g) grants.forget(g);
    const id = g ? g.id : null;
    type Row = { mine: boolean; live: boolean | null; unlocked: boolean | null };
    const row =
      limit === undefined
        ? await connection.exec<Row>(s, 'release', sql.release, [s.marker, key, owner, id])
        : await connection.exec<Row>(s, 'permit_release', sql.permitRelease, [
            s.marker,
            key,
            owner,
            channel,
            id,
            permits.lockId(key),
          ]);
    if (g && row.unlocked !== true) s.end(LOST_TRACK);
    return row.live === true;
  }

  return {
    name: 'postgres',
    deadHolder: 'with-session',
    liveness: BY_SESSION_SNAPSHOT,
    deciding: BY_SESSION,
    ops: {
      acquire: (request) => {
        const { key, owner, ttl, limit } = request;
        return queue.run(key, owner, () => acquireOnce(key, owner, ttl, limit, waiters.pidFor(request)));
      },

      async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
        const { unique, slot } = uniquePairs(requests);
        if (unique.length === 0) return [];
        await ready();
        grants.holdOff(unique);
        // Behind a pooler no grant of this backend can be trusted: none is still held.
        if (connection.unusable) return slot.map(() => false);
        const s = await connection.session();
        let held: Set<number>;
        try {
          const columns = [
            s.marker,
            unique.map((r) => r.key),
            unique.map((r) => r.owner),
            unique.map((r) => r.ttl),
          ];
          type Row = { mine: boolean; held: string[] };
          // A batch of plain leases only keeps its statement; one with permits extends both tables.
          const row = unique.some((r) => r.limit !== undefined)
            ? await connection.exec<Row>(s, 'extend_mixed', sql.extendMixed, [
                ...columns,
                unique.map((r) => r.limit ?? null),
              ])
            : await connection.exec<Row>(s, 'extend', sql.extend, columns);
          held = new Set(row.held.map(Number));
        } catch (error) {
          // The session has ended (or was never ours): every grant made on it is dead, whatever the rows say.
          if (!s.dead) throw error;
          held = new Set();
        }
        unique.forEach((r, i) => {
          const g = grants.get(r.key, r.owner);
          if (g && !held.has(i + 1) && !queue.busy(r.key, r.owner)) grants.drop(g);
        });
        return slot.map((position) => held.has(position));
      },

      release: ({ key, owner, limit }) => queue.run(key, owner, () => releaseOnce(key, owner, limit)),
    },

    async close(): Promise<void> {
      const had = grants.close();
      // Delete our rows and announce them, so waiters elsewhere wake now; ending the session frees them anyway.
      await connection.close((s) =>
        had ? connection.exec(s, 'close', sql.close, [s.marker]) : Promise.resolve(),
      );
    },
  };
}
