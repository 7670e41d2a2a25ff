import type { AcquireRequest, AcquireResult, ExtendRequest, ReleaseRequest } from '@oncelock/core/backend';
import { uniquePairs } from './batch.js';
import { Hands } from './hands.js';
import type { Mode, Shared } from './mode.js';
import { periodic } from './periodic.js';
import { type PermitRow, permitOutcome, permitsOf } from './permits.js';
import { type HolderRow, toHolder } from './sql/holder.js';
import { BY_TTL, pruneSql } from './sql/rows.js';
import {
  acquireSql,
  extendMixedSql,
  extendSql,
  permitAcquireSql,
  permitReleaseSql,
  releaseSql,
} from './sql/table.js';
import { FREED_RETRIES } from './waiters.js';

/** Rows of holders that died without releasing are pruned once per this many acquisitions. */
const PRUNE_EVERY = 500;

/**
 * Table mode: a lease table whose expiry the database clock decides. Every operation is one
 * autocommit statement on any pooled connection, so it works behind PgBouncer in transaction
 * mode. A dead or frozen holder's lease ends at its TTL. Release notifications need a direct
 * LISTEN connection (`listen`), because a transaction pooler cannot keep a LISTEN alive.
 */
export function tableMode(shared: Shared): Mode {
  const { db, options, channel, ready, waiters, advanceFences } = shared;
  const s = options.schema;
  const sql = {
    acquire: acquireSql(s),
    extend: extendSql(s),
    release: releaseSql(s),
    prune: pruneSql(s),
    permitAcquire: permitAcquireSql(s),
    permitRelease: permitReleaseSql(s),
    extendMixed: extendMixedSql(s),
  };
  const permits = permitsOf(shared);
  const prune = periodic(PRUNE_EVERY, () => db.rows(sql.prune));
  // No ledger here: a hand nobody claims is just released (see hands.ts).
  const hands = new Hands(
    (_key, _owner, fn) => fn(),
    (key, owner) => release({ key, owner }),
  );
  waiters.route(hands);

  /** The grant a hand made to (key, owner), if one is here and good for `ttl` (see hands.ts). */
  function claim(key: string, owner: string, ttl: number): AcquireResult | undefined {
    const hand = hands.claim(key, owner, ttl);
    return hand && { granted: true, fence: hand.fence, validFrom: hand.anchor };
  }

  async function release({ key, owner, limit }: ReleaseRequest): Promise<boolean> {
    await ready();
    const [row] =
      limit === undefined
        ? await db.rows<{ live: boolean }>(sql.release, [key, owner])
        : await db.rows<{ live: boolean | null }>(sql.permitRelease, [
            key,
            owner,
            permits.lockId(key),
            channel,
          ]);
    return row?.live === true;
  }

  /**
   * `waiter`: the LISTEN pid a waiting caller names, or null; `again`: may try once more after a
   * permits header (see refusedPlain); `freed`: tries left after a waiter's refusal found the key
   * freed under it (see sql/waiters.ts).
   */
  async function acquirePlain(
    key: string,
    owner: string,
    ttl: number,
    waiter: number | null,
    again = true,
    freed = FREED_RETRIES,
  ): Promise<AcquireResult> {
    const handed = claim(key, owner, ttl);
    if (handed) return handed;
    type Row = Partial<HolderRow> & { granted_fence: string | null; joined: boolean; no_fence: boolean };
    const sent = performance.now();
    // Terms for a hand: the anchor is this send time (see sql/hand.ts).
    const anchor = waiter !== null && waiters.handable(key, owner) ? sent : null;
    if (anchor !== null) hands.track(key, owner);
    const [row] = await db.rows<Row>(sql.acquire, [key, owner, ttl, waiter, anchor]);
    prune.tick();
    if (row?.no_fence) {
      await advanceFences();
      return acquirePlain(key, owner, ttl, waiter, again, freed);
    }
    hands.replied(key, owner, sent, !!row?.granted_fence);
    if (waiter !== null) waiters.joined(key, owner, row?.joined === true);
    if (row?.granted_fence) return { granted: true, fence: Number(row.granted_fence) };
    if (row?.permit_limit != null)
      return permits.refusedPlain(
        key,
        row.permit_limit,
        again ? () => acquirePlain(key, owner, ttl, waiter, false) : undefined,
      );
    // Refused by a holder whose release came before our place was taken: try again now.
    if (waiter !== null && !row?.joined && freed > 0)
      return acquirePlain(key, owner, ttl, waiter, again, freed - 1);
    // A hand that came while this ran, made after it was sent: the newer truth (see hands.ts).
    return (
      claim(key, owner, ttl) ?? {
        granted: false,
        holder: row?.owner ? toHolder(row as HolderRow) : undefined,
      }
    );
  }

  return {
    name: 'postgres-table',
    deadHolder: 'at-ttl',
    liveness: BY_TTL,
    deciding: BY_TTL,
    ops: {
      async acquire(request: AcquireRequest): Promise<AcquireResult> {
        const { key, owner, ttl, limit } = request;
        await ready();
        const waiter = waiters.pidFor(request);
        if (limit !== undefined) {
          const [row] = await db.rows<PermitRow>(sql.permitAcquire, [
            key,
            owner,
            ttl,
            limit,
            permits.lockId(key),
            waiter,
          ]);
          if (waiter !== null) waiters.joined(key, owner, !row!.granted_fence && row!.held_limit === limit);
          return permitOutcome(row!);
        }
        return acquirePlain(key, owner, ttl, waiter);
      },

      async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
        if (requests.length === 0) return [];
        const { unique, slot } = uniquePairs(requests);
        await ready();
        const columns = [unique.map((r) => r.key), unique.map((r) => r.owner), unique.map((r) => r.ttl)];
        // A batch of plain leases only keeps its statement; one with permits extends both tables.
        const rows = unique.some((r) => r.limit !== undefined)
          ? await db.rows<{ ord: string }>(sql.extendMixed, [...columns, unique.map((r) => r.limit ?? null)])
          : await db.rows<{ ord: string }>(sql.extend, columns);
        const held = new Set(rows.map((r) => Number(r.ord)));
        return slot.map((position) => held.has(position));
      },

      release,
    },

    async close(): Promise<void> {
      await prune.settled();
    },
  };
}
