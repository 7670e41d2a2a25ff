import type { AcquireRequest, AcquireResult, ExtendRequest, ReleaseRequest } from '@oncelock/core/backend';
import { uniquePairs } from './batch.js';
import type { Mode, Shared } from './mode.js';
import { type HolderRow, toHolder } from './sql/holder.js';
import { BY_TTL, pruneSql } from './sql/rows.js';
import { acquireSql, extendSql, releaseSql } from './sql/table.js';

/** Rows of holders that died without releasing are pruned once per this many acquisitions. */
const PRUNE_EVERY = 500;

/**
 * Table mode: a lease table whose expiry the database clock decides. Every operation is one
 * autocommit statement on any pooled connection, so it works behind PgBouncer in transaction
 * mode. A dead or frozen holder's lease ends at its TTL. Release notifications need a direct
 * LISTEN connection (`listen`), because a transaction pooler cannot keep a LISTEN alive.
 */
export function tableMode({ db, options, channel, ready }: Shared): Mode {
  const s = options.schema;
  const sql = {
    acquire: acquireSql(s),
    extend: extendSql(s),
    release: releaseSql(s),
    prune: pruneSql(s),
  };
  let acquisitions = 0;
  let pruning: Promise<unknown> | undefined;

  function maybePrune(): void {
    if (++acquisitions % PRUNE_EVERY !== 0 || pruning) return;
    pruning = db
      .rows(sql.prune)
      .catch(() => {})
      .finally(() => (pruning = undefined));
  }

  return {
    name: 'postgres-table',
    deadHolder: 'at-ttl',
    liveness: BY_TTL,
    ops: {
      async acquire({ key, owner, ttl }: AcquireRequest): Promise<AcquireResult> {
        await ready();
        const [row] = await db.rows<Partial<HolderRow> & { granted_fence: string | null }>(sql.acquire, [
          key,
          owner,
          ttl,
        ]);
        maybePrune();
        if (row?.granted_fence) return { granted: true, fence: Number(row.granted_fence) };
        return { granted: false, holder: row?.owner ? toHolder(row as HolderRow) : undefined };
      },

      async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
        if (requests.length === 0) return [];
        const { unique, slot } = uniquePairs(requests);
        await ready();
        const rows = await db.rows<{ ord: string }>(sql.extend, [
          unique.map((r) => r.key),
          unique.map((r) => r.owner),
          unique.map((r) => r.ttl),
        ]);
        const held = new Set(rows.map((r) => Number(r.ord)));
        return slot.map((position) => held.has(position));
      },

      async release({ key, owner }: ReleaseRequest): Promise<boolean> {
        await ready();
        const [row] = await db.rows<{ live: boolean }>(sql.release, [key, owner, channel]);
        return row?.live === true;
      },
    },

    async close(): Promise<void> {
      await pruning;
    },
  };
}
