import { postgresBackend } from '@oncelock/postgres';
import pg from 'pg';
import type { ArmSpec, LockArm } from './arm.js';
import { oncelockArm } from './oncelock.js';

/** A 32-bit FNV-1a hash of the key: the least a user does to turn a name into an advisory lock id. */
function lockId(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * One connection's queries, one after another: what pg does with overlapping `query` calls, but
 * which it now warns about. Callers on many keys share the one session that holds their locks.
 */
function serial(client: pg.Client) {
  let tail: Promise<unknown> = Promise.resolve();
  return (text: string, values: unknown[]) => {
    const run = tail.then(() => client.query<{ ok: boolean }>(text, values));
    tail = run.catch(() => {});
    return run;
  };
}

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
      id: 'oncelock',
      label: 'oncelock',
      waits: true,
      make: async () => oncelockArm(postgresBackend({ connectionString: url })),
    },
  ];
}
