import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { LockArm } from './arm.js';
import { lockId, serial } from './pg-session.js';
import { tryUntilWoken } from './wake-loop.js';

/** The waiters' queue, shared by every process of a run: one row per waiting try, oldest first. */
const QUEUE = 'oncelock_bench_notify_queue';

/**
 * The least a handoff woken by LISTEN/NOTIFY can cost: a release gives the advisory lock back and
 * NOTIFYs the oldest waiter's own channel in the same statement; that waiter, woken, takes the
 * lock with one more statement. No TTL, no fence, no row for the holder: what is left is
 * PostgreSQL's NOTIFY (signalled at commit to every LISTEN session of the database) and one
 * round trip. oncelock's release hands the key over with its NOTIFY, one hop fewer than this.
 *
 * A try that is refused joins the queue in the same statement, but a release that runs while
 * that statement is uncommitted does not see it: that waiter then waits for its fallback poll,
 * as it would after a lost wake-up. Rare (the window is one statement long), so it leaves the
 * p50 alone.
 */
export async function notifyWakeArm(url: string): Promise<LockArm> {
  const client = new pg.Client({ connectionString: url });
  const listener = new pg.Client({ connectionString: url });
  await Promise.all([client.connect(), listener.connect()]);
  // Workers prepare their arms at once: one creates the table, under a lock, the others find it.
  await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${lockId(QUEUE)});
    CREATE UNLOGGED TABLE IF NOT EXISTS ${QUEUE} (id bigserial PRIMARY KEY, lock int8 NOT NULL, channel text NOT NULL);
    COMMIT`);
  const query = serial(client);
  const channel = `w_${randomUUID().replaceAll('-', '')}`;
  // The wake-up of the acquire in progress (one at a time per process).
  let woken: (() => void) | undefined;
  listener.on('notification', (m) => {
    if (m.channel === channel) woken?.();
  });
  await listener.query(`LISTEN ${channel}`);
  const takeSql = `WITH l AS (SELECT pg_try_advisory_lock($1) AS ok),
    q AS (INSERT INTO ${QUEUE} (lock, channel) SELECT $1, $2 FROM l WHERE NOT l.ok),
    d AS (DELETE FROM ${QUEUE} WHERE lock = $1 AND channel = $2 AND (SELECT ok FROM l))
    SELECT ok FROM l`;
  // pg_notify returns void: its calls are counted, so that the reply carries a plain number.
  const releaseSql = `WITH u AS (SELECT pg_advisory_unlock($1) AS ok),
    w AS (DELETE FROM ${QUEUE} WHERE id = (SELECT id FROM ${QUEUE} WHERE lock = $1 AND (SELECT ok FROM u)
      ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING channel)
    SELECT u.ok, (SELECT count(*) FROM (SELECT pg_notify(w.channel, '') FROM w) n) AS woken FROM u`;
  return {
    async acquire(key, _ttl, waitMs) {
      const id = lockId(key);
      const take = async () =>
        (await query(takeSql, [id, channel])).rows[0]?.ok
          ? {
              async release() {
                const r = await query(releaseSql, [id]);
                if (!r.rows[0]?.ok) throw new Error(`pg_advisory_unlock(${id}) returned false`);
              },
            }
          : null;
      return tryUntilWoken(take, waitMs, (wake) => {
        woken = wake;
        return () => {
          woken = undefined;
        };
      });
    },
    async close() {
      // Places left by tries that timed out (at the end of each run) go with their process.
      await query(`DELETE FROM ${QUEUE} WHERE channel = $1`, [channel]);
      await listener.end();
      await client.end();
    },
  };
}
