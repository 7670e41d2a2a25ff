import type { AcquireRequest, AcquireResult, ExtendRequest, ReleaseRequest } from '@oncelock/core';
import { type Base, makeBase, type PostgresBackend } from './base.js';
import { storable, uniquePairs } from './batch.js';
import type { ParsedOptions } from './options.js';
import { readOperations } from './reads.js';
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
export function tableBackend(options: ParsedOptions): PostgresBackend {
  const base: Base = makeBase(options, 'postgres-table', options.listen ?? false);
  const { db, channel } = base;
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
      .rows('prune', sql.prune)
      .catch(() => {})
      .finally(() => (pruning = undefined));
  }

  const backend: PostgresBackend = {
    ...base.describe({
      exclusion: 'strict',
      fencing: true,
      deadHolder: 'at-ttl',
      frozenHolder: 'at-ttl',
      releaseNotifications: base.listener !== undefined,
    }),

    async acquire({ key, owner, ttl }: AcquireRequest): Promise<AcquireResult> {
      base.ensureOpen();
      storable(key, 'key');
      storable(owner, 'owner');
      await base.ready();
      const [row] = await db.rows<Partial<HolderRow> & { granted_fence: string | null }>(
        'acquire',
        sql.acquire,
        [key, owner, ttl],
      );
      maybePrune();
      if (row?.granted_fence) return { granted: true, fence: Number(row.granted_fence) };
      return { granted: false, holder: row?.owner ? toHolder(row as HolderRow) : undefined };
    },

    async extend(request: ExtendRequest): Promise<boolean> {
      const [ok] = await backend.extendMany([request]);
      return ok === true;
    },

    async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
      base.ensureOpen();
      if (requests.length === 0) return [];
      const { unique, slot } = uniquePairs(requests);
      await base.ready();
      const rows = await db.rows<{ ord: string }>('extend', sql.extend, [
        unique.map((r) => r.key),
        unique.map((r) => r.owner),
        unique.map((r) => r.ttl),
      ]);
      const held = new Set(rows.map((r) => Number(r.ord)));
      return slot.map((position) => held.has(position));
    },

    async release({ key, owner }: ReleaseRequest): Promise<boolean> {
      base.ensureOpen();
      storable(key, 'key');
      storable(owner, 'owner');
      await base.ready();
      const [row] = await db.rows<{ live: boolean }>('release', sql.release, [key, owner, channel]);
      return row?.live === true;
    },

    ...readOperations(base, BY_TTL),

    async close(): Promise<void> {
      if (!base.markClosed()) return;
      await pruning;
      await base.finish();
    },
  };
  const listener = base.listener;
  if (listener) {
    backend.subscribe = async (key: string, fn: () => void) => {
      base.ensureOpen();
      return listener.subscribe(key, fn);
    };
  }
  return backend;
}
