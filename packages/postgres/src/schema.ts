import type { Db } from './db.js';
import { advisoryLockId } from './lock-id.js';
import { permitFunctionsSql } from './sql/permit-functions.js';

/**
 * The DDL both modes need, idempotent. Run under a transaction-scoped advisory lock so that
 * many processes starting at once do not race on `CREATE ... IF NOT EXISTS` (which can fail
 * with a unique violation when two sessions create the same object together). Sent as one
 * simple-protocol query: one implicit transaction, so it also works behind a transaction pooler.
 *
 * - `fence`: the one sequence every fence comes from. Logged, so fences never go backwards
 *   after a crash (PostgreSQL skips ahead on recovery).
 * - `locks`: one row per held key, in both modes. `pid` and `lock_id` name the session (and the
 *   advisory lock it holds) in advisory mode; they are NULL in table mode. Logged, so that
 *   table-mode grants survive a server restart. `permit_limit` is set on a key held by permits.
 * - `permits` and the functions that change it: concurrency limits (see sql/permit-functions.ts).
 *
 * @param schema - The schema to create them in: the backend's `schema` option (default
 *   `oncelock`), at most 48 lower-case letters, digits and underscores.
 */
export function migrationSql(schema: string): string {
  const s = `"${schema}"`;
  // The empty key is never a user key (core refuses it), so its id is free for this lock.
  const migrateLock = advisoryLockId('', schema);
  return `SELECT pg_advisory_xact_lock(${migrateLock});
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE SEQUENCE IF NOT EXISTS ${s}.fence AS bigint;
CREATE TABLE IF NOT EXISTS ${s}.locks (
  key text PRIMARY KEY,
  owner text NOT NULL,
  fence bigint NOT NULL,
  since timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  pid integer,
  lock_id bigint
);
${permitFunctionsSql(schema)}`;
}

/**
 * The NOTIFY channel releases are announced on; the payload is the key.
 *
 * @param schema - The backend's schema; each schema has a channel of its own.
 */
export function channelOf(schema: string): string {
  return `oncelock:${schema}`;
}

/** Creates the schema objects: before first use unless `migrate: false`, and on `migrate()`. */
export function schemaMigration(db: Db, schema: string, onFirstUse: boolean) {
  let migrating: Promise<void> | undefined;
  /** Idempotent; a run that failed is tried again on the next call. */
  const migrate = (): Promise<void> => {
    migrating ??= db.rows(migrationSql(schema)).then(
      () => {},
      (error: unknown) => {
        migrating = undefined;
        throw error;
      },
    );
    return migrating;
  };
  // With `migrate: false`, an operation still waits for a migrate() that is under way.
  const ready = (): Promise<void> => (onFirstUse || migrating ? migrate() : Promise.resolve());
  return { migrate, ready };
}
