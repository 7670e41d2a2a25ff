import type { AcquireResult, ExtendRequest } from '@oncelock/core/backend';
import { uniquePairs } from './batch.js';
import { GrantLedger } from './grant-ledger.js';
import { LockConnection } from './lock-connection.js';
import { advisoryLockId } from './lock-id.js';
import type { Mode, Shared } from './mode.js';
import { PairQueue } from './pair-queue.js';
import { acquireSql, closeSql, extendSql, releaseSql, unlockSql } from './sql/advisory.js';
import { type HolderRow, toHolder } from './sql/holder.js';
import { BY_SESSION_SNAPSHOT } from './sql/rows.js';

interface AcquireRow extends Partial<HolderRow> {
  mine: boolean;
  granted_fence: string | null;
  unlocked: boolean | null;
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
export function advisoryMode({ db, options, channel, ready }: Shared): Mode {
  const { schema } = options;
  const sql = {
    acquire: acquireSql(schema),
    extend: extendSql(schema),
    release: releaseSql(schema),
    close: closeSql(schema),
  };
  const connection = new LockConnection(db, options.timeout, (s) => grants.sessionEnded(s));
  const grants = new GrantLedger(async (s, ids) => {
    const row = await connection.exec<{ mine: boolean; unlocked: boolean[] }>(s, 'unlock', unlockSql, [
      s.marker,
      ids,
    ]);
    return row.unlocked;
  });
  const queue = new PairQueue();
  const now = () => performance.now();

  async function acquireOnce(key: string, owner: string, ttl: number): Promise<AcquireResult> {
    await ready();
    const s = await connection.session();
    let g = grants.get(key, owner);
    if (g && (g.session !== s || g.expiresAt <= now())) {
      grants.drop(g);
      g = undefined;
    }
    grants.holdOff([{ key, owner, ttl }]);
    const expiresAt = now() + ttl;
    const id = String(advisoryLockId(key, schema));
    const row = await connection.exec<AcquireRow>(s, 'acquire', sql.acquire, [
      s.marker,
      id,
      key,
      owner,
      ttl,
      g !== undefined,
    ]);
    if (row.unlocked === false) {
      s.end(LOST_TRACK);
      throw new Error('the lock connection lost track of its locks');
    }
    if (row.granted_fence === null) {
      // Someone else holds it now (our earlier grant, if any, was released or taken over).
      if (g) grants.drop(g);
      return { granted: false, holder: row.owner ? toHolder(row as HolderRow) : undefined };
    }
    if (s.dead) throw new Error('the lock connection ended just after the grant');
    grants.record({ key, owner, id, session: s, expiresAt }, g);
    return { granted: true, fence: Number(row.granted_fence) };
  }

  async function releaseOnce(key: string, owner: string): Promise<boolean> {
    const g = grants.get(key, owner);
    // Without a grant here, the release is for a grant another process made: it still needs a session.
    const s = g?.session ?? (await connection.session());
    if (g) grants.forget(g);
    const row = await connection.exec<{ mine: boolean; live: boolean | null; unlocked: boolean | null }>(
      s,
      'release',
      sql.release,
      [s.marker, key, owner, channel, g ? g.id : null],
    );
    if (g && row.unlocked !== true) s.end(LOST_TRACK);
    return row.live === true;
  }

  return {
    name: 'postgres',
    deadHolder: 'with-session',
    liveness: BY_SESSION_SNAPSHOT,
    ops: {
      acquire: ({ key, owner, ttl }) => queue.run(key, owner, () => acquireOnce(key, owner, ttl)),

      async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
        const { unique, slot } = uniquePairs(requests);
        await ready();
        if (unique.length === 0) return [];
        grants.holdOff(unique);
        // Behind a pooler no grant of this backend can be trusted: none is still held.
        if (connection.unusable) return slot.map(() => false);
        const s = await connection.session();
        let held: Set<number>;
        try {
          const row = await connection.exec<{ mine: boolean; held: string[] }>(s, 'extend', sql.extend, [
            s.marker,
            unique.map((r) => r.key),
            unique.map((r) => r.owner),
            unique.map((r) => r.ttl),
          ]);
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

      release: ({ key, owner }) => queue.run(key, owner, () => releaseOnce(key, owner)),
    },

    async close(): Promise<void> {
      const had = grants.close();
      // Delete our rows and announce them, so waiters elsewhere wake now; ending the session frees them anyway.
      await connection.close((s) =>
        had ? connection.exec(s, 'close', sql.close, [s.marker, channel]) : Promise.resolve(),
      );
    },
  };
}
