// postgresBackend, and fenced writes in the same database.

// #region connect
import {
  fencedUpdate,
  type LockBackend,
  postgresBackend,
  withLease,
} from '@oncelock/postgres';
import pg from 'pg';

// The backend makes its own pool from a connection string and ends it in
// close()...
export const fromUrl = (): LockBackend =>
  postgresBackend({
    connectionString: 'postgres://app@db.internal:5432/app',
  });

// ...or takes a few connections of yours: the lock session and, for
// waiters, a LISTEN connection.
export const fromPool = (pool: pg.Pool): LockBackend =>
  postgresBackend({ pool });

// Behind a transaction pooler (PgBouncer in transaction mode): a lease
// table, one statement per call.
export const behindPooler = (): LockBackend =>
  postgresBackend({
    connectionString: 'postgres://app@pgbouncer:6432/app',
    mode: 'table',
    // direct, for release notifications
    listen: 'postgres://app@db.internal:5432/app',
  });
// #endregion connect

// #region fenced-update
//   CREATE TABLE balances (account text PRIMARY KEY, amount bigint NOT
//   NULL, fence bigint);
export function settle(
  backend: LockBackend,
  db: pg.Pool,
  account: string,
  amount: number,
) {
  return withLease(
    backend,
    `balance:${account}`,
    async (held) => {
      // Applies only if no newer fence has written this row; otherwise
      // throws StaleFenceError.
      await fencedUpdate(db, {
        table: 'balances',
        set: { amount },
        where: { account },
        fence: held.fence,
      });
    },
    { ttl: 15_000, wait: 5_000, require: { fencing: true } },
  );
}
// #endregion fenced-update

export const newPool = () =>
  new pg.Pool({
    connectionString: 'postgres://postgres@127.0.0.1:5432/test',
  });
