import type { AcquireResult, ExtendRequest } from '@oncelock/core/backend';
import { uniquePairs } from './batch.js';
import { GrantLedger } from './grant-ledger.js';
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
    await ready();
    const s = await connection.session();
    let g = grants.get(key, owner);
    if (g && (g.session !== s || g.expiresAt <= now())) {
      grants.drop(g);
      g = undefined;
    }
    grants.holdOff([{ key, owner, ttl }]);
    const expiresAt = now() + ttl;
    const id = permits.lockId(key);
    const values = [s.marker, id, key, owner, ttl, g !== undefined];
    const row =
      limit === undefined
        ? await connection.exec<AcquireRow>(s, 'acquire', sql.acquire, [...values, waiter])
        : await connection.exec<AcquireRow>(s, 'permit_acquire', sql.permitAcquire, [
            ...values,
            limit,
            waiter,
          ]);
    if (row.unlocked === false) {
      s.end(LOST_TRACK);
      throw new Error('the lock connection lost track of its locks');
    }
    if (row.no_fence) {
      await advanceFences();
      return acquireOnce(key, owner, ttl, limit, waiter, again, freed);
    }
    if (row.granted_fence === null) {
      // Someone else holds it now (our earlier grant, if any, was released or taken over),
      // unless the key is held under another limit: then a grant of ours is still what it was.
      if (g && (limit === undefined || row.held_limit === limit)) grants.drop(g);
      if (limit !== undefined) {
        if (waiter !== null) waiters.joined(key, owner, row.held_limit === limit);
        return permitOutcome(row);
      }
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
      return { granted: false, holder: row.owner ? toHolder(row as HolderRow) : undefined };
    }
    if (waiter !== null) waiters.joined(key, owner, false);
    if (s.dead) throw new Error('the lock connection ended just after the grant');
    grants.record({ key, owner, id, session: s, expiresAt }, g);
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
