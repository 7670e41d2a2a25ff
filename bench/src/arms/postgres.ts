import { randomUUID } from 'node:crypto';
import { postgresBackend } from '@oncelock/postgres';
import pg from 'pg';
import type { ArmSpec, LockArm } from './arm.js';
import { backendOnlyArm, oncelockArm } from './oncelock.js';
import { lockId, serial } from './pg-session.js';
import { notifyWakeArm } from './postgres-notify.js';

/** The floor: `pg_try_advisory_lock` and `pg_advisory_unlock` on one pg connection. */
async function rawArm(url: string): Promise<LockArm> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const query = serial(client);
  return {
    async acquire(key) {
      const id = lockId(key);
      const r = await query('SELECT pg_try_advisory_lock($1) AS ok', [id]);
      if (!r.rows[0]?.ok) return null;
      return {
        async release() {
          const u = await query('SELECT pg_advisory_unlock($1) AS ok', [id]);
          // An unlock that returns false means the lock was not ours: never let that pass silently.
          if (!u.rows[0]?.ok) throw new Error(`pg_advisory_unlock(${id}) returned false`);
        },
      };
    },
    close: () => client.end(),
  };
}

/**
 * The floor for waiting: `pg_advisory_lock` blocks in the server until the lock is free, so
 * the server itself hands it over. The wait is bounded with `lock_timeout`.
 */
async function blockingArm(url: string): Promise<LockArm> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async acquire(key, _ttl, waitMs) {
      const id = lockId(key);
      try {
        // One round trip: both statements are ours and hold no user input, so they go as one simple query.
        await client.query(
          `SET lock_timeout = ${Math.max(1, Math.round(waitMs))}; SELECT pg_advisory_lock(${id})`,
        );
      } catch (error) {
        if ((error as { code?: string }).code === '55P03') return null; // lock_not_available
        throw error;
      }
      return { release: () => client.query('SELECT pg_advisory_unlock($1)', [id]) };
    },
    close: () => client.end(),
  };
}

/**
 * A lease as a table row, without the rest of oncelock: an upsert that takes the key if it is
 * free or expired and hands out a fence from a sequence, and a compare-and-delete. With
 * `durable`, the acquire's commit waits for its flush to disk, as a fence must (a sequence
 * advance lost in a crash would hand the same fence out twice), as every grant did before schema
 * version 4. The gap between the two is the price of that flush, which oncelock's advisory mode no
 * longer pays; the gap to the floor, the price of a TTL and a fence at all.
 */
async function rowArm(url: string, durable: boolean): Promise<LockArm> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const query = serial(client);
  // Not temporary, since a temporary table writes no WAL and there would be no flush to measure;
  // named by process, so that two runs on one database keep apart.
  const table = `oncelock_bench_rows_${durable ? 'durable' : 'async'}_${process.pid}`;
  await client.query(`DROP TABLE IF EXISTS ${table}; DROP SEQUENCE IF EXISTS ${table}_fence;
    CREATE TABLE ${table} (key text PRIMARY KEY, owner text NOT NULL, fence bigint NOT NULL,
      expires_at timestamptz NOT NULL); CREATE SEQUENCE ${table}_fence`);
  const commit = durable ? 'on' : 'off';
  const acquire = `WITH w AS (INSERT INTO ${table} AS h (key, owner, fence, expires_at)
      VALUES ($1, $2, nextval('${table}_fence'), clock_timestamp() + $3 * interval '1 ms')
      ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, fence = excluded.fence, expires_at = excluded.expires_at
      WHERE h.expires_at <= clock_timestamp() RETURNING fence)
    SELECT EXISTS (SELECT 1 FROM w) AS ok, set_config('synchronous_commit', '${commit}', true)`;
  // Losing a delete in a crash only leaves a row to expire: it never needs the flush.
  const release = `WITH d AS (DELETE FROM ${table} WHERE key = $1 AND owner = $2 RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM d) AS ok, set_config('synchronous_commit', 'off', true)`;
  return {
    async acquire(key, ttl) {
      const owner = randomUUID();
      const r = await query(acquire, [key, owner, ttl]);
      if (!r.rows[0]?.ok) return null;
      return {
        async release() {
          const d = await query(release, [key, owner]);
          if (!d.rows[0]?.ok) throw new Error(`the row of ${key} was not this owner's to delete`);
        },
      };
    },
    async close() {
      await client.query(`DROP TABLE ${table}; DROP SEQUENCE ${table}_fence`);
      await client.end();
    },
  };
}

export function postgresArms(url: string): ArmSpec[] {
  return [
    { id: 'raw', label: 'raw pg (floor)', floor: true, waits: false, make: () => rawArm(url) },
    {
      id: 'raw-blocking',
      label: 'raw pg_advisory_lock (blocking)',
      waits: true,
      handoffFloor: true,
      make: () => blockingArm(url),
    },
    {
      id: 'notify-wake-one',
      label: 'raw pg wake-one by NOTIFY (a LISTEN floor)',
      waits: true,
      // A reference for the handoff suite only, as the blocking floor is.
      handoffFloor: true,
      make: () => notifyWakeArm(url),
    },
    {
      id: 'oncelock',
      label: 'oncelock',
      waits: true,
      make: async () => oncelockArm(postgresBackend({ connectionString: url })),
    },
    {
      id: 'row-async',
      label: 'breakdown: a lease row (TTL, fence), asynchronous commit',
      waits: false,
      breakdown: true,
      make: () => rowArm(url, false),
    },
    {
      id: 'row-durable',
      label: 'reference: the same row, its commit flushed to disk (a grant before schema v4)',
      waits: false,
      breakdown: true,
      make: () => rowArm(url, true),
    },
    {
      id: 'oncelock-backend',
      label: 'breakdown: postgresBackend calls without lease()',
      waits: false,
      breakdown: true,
      make: async () => backendOnlyArm(postgresBackend({ connectionString: url })),
    },
  ];
}
