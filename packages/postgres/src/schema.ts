import type { Db } from './db.js';
import { advisoryLockId } from './lock-id.js';
import { fencesSql } from './sql/fences.js';
import { handSql } from './sql/hand.js';
import { permitFunctionsSql } from './sql/permit-functions.js';
import { rateFunctionsSql } from './sql/rates.js';
import { statesTableSql } from './sql/states.js';
import { waitersSql } from './sql/waiters.js';

/**
 * The version of the schema {@link migrationSql} makes. 1: the fence sequence, `locks`, `permits`
 * and the permit functions (recorded nowhere: the versions table came with 2). 2: `rates` and
 * `rate_limit` (rate limits), `states` (saved state), and the `versions` table. 3: `waiters`
 * (one waiter woken per release). 4: the fence ceiling. 5: waiters' terms and `hand` (a plain
 * release hands the key to its oldest waiter; see sql/hand.ts). 6: the functions that scan
 * permits or waiters by key scan by index only (see INDEX_SCANS), and `permit_release` takes the
 * lock id whose count its caller gives back, so that a permit's release reads no pg_locks. Every
 * migration is additive and idempotent, so running this package's on a schema of an older
 * version brings it up to this one. On a schema of a newer version it changes nothing (see
 * {@link NEWER_SCHEMA}).
 */
export const SCHEMA_VERSION = 6;

/**
 * The SQLSTATE with which the migration stops, changing nothing, on a schema already migrated to
 * a newer version: an older release still running beside a newer one (a rolling deploy) must not
 * put back its own, older functions. `migrate()` takes it as done.
 */
export const NEWER_SCHEMA = 'OLNEW';

/**
 * The DDL both modes need, idempotent. Run under a transaction-scoped advisory lock so that
 * many processes starting at once do not race on `CREATE ... IF NOT EXISTS` (which can fail
 * with a unique violation when two sessions create the same object together). Sent as one
 * simple-protocol query: one implicit transaction, so it also works behind a transaction pooler.
 *
 * - `fence`: the one sequence every fence comes from; `fence_ceiling` and `fence_live`, which
 *   keep fences from going backwards after a crash without a flush per fence (sql/fences.ts).
 * - `locks`: one row per held key, in both modes. `pid` and `lock_id` name the session (and the
 *   advisory lock it holds) in advisory mode; they are NULL in table mode. Logged, so that
 *   table-mode grants survive a server restart. `permit_limit` is set on a key held by permits.
 * - `permits` and the functions that change it: concurrency limits (see sql/permit-functions.ts).
 * - `rates` and `rate_limit`: rate limits (see sql/rates.ts); `states`: saved state (sql/states.ts).
 * - `waiters`, `wake` and `pass_on`: the callers waiting for each key, oldest first, and the
 *   waking of one of them when the key frees (see sql/waiters.ts). Unlogged: a crash forgets who
 *   waited, and each waiter joins again at its next try. `hand`: a plain release hands the key
 *   to the oldest waiter, on the terms its join stored (see sql/hand.ts).
 * - `versions`: one row per {@link SCHEMA_VERSION} this schema has been migrated to.
 *
 * @param schema - The schema to create them in: the backend's `schema` option (default
 *   `oncelock`), at most 48 lower-case letters, digits and underscores.
 */
export function migrationSql(schema: string): string {
  const s = `"${schema}"`;
  // The empty key is never a user key (core refuses it), so its id is free for this lock.
  const migrateLock = advisoryLockId('', schema);
  const versions = `'${s}.versions'`;
  return `SELECT pg_advisory_xact_lock(${migrateLock});
DO $$ BEGIN
  IF to_regclass(${versions}) IS NOT NULL THEN
    IF (SELECT max(version) FROM ${s}.versions) > ${SCHEMA_VERSION} THEN
      RAISE EXCEPTION 'schema ${schema} is newer than version ${SCHEMA_VERSION}: left as it is' USING ERRCODE = '${NEWER_SCHEMA}';
    END IF;
  END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE SEQUENCE IF NOT EXISTS ${s}.fence AS bigint;
${fencesSql(schema)}
CREATE TABLE IF NOT EXISTS ${s}.locks (
  key text PRIMARY KEY,
  owner text NOT NULL,
  fence bigint NOT NULL,
  since timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  pid integer,
  lock_id bigint
);
${waitersSql(schema)}
${handSql(schema)}
${permitFunctionsSql(schema)}
${rateFunctionsSql(schema)}
${statesTableSql(schema)}
CREATE TABLE IF NOT EXISTS ${s}.versions (
  version integer PRIMARY KEY,
  migrated_at timestamptz NOT NULL DEFAULT statement_timestamp()
);
INSERT INTO ${s}.versions (version) VALUES (${SCHEMA_VERSION}) ON CONFLICT (version) DO NOTHING;`;
}

/**
 * The NOTIFY channel on which releases of schema versions before 3 announce a key (the payload);
 * the backend still listens to it, so that such a release during a rolling deploy wakes every
 * waiter of its key here. Since version 3 a release wakes one waiter, on the channel of the
 * LISTEN session that waiter's backend holds (`oncelock!<pid>`).
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
        if ((error as { code?: unknown }).code === NEWER_SCHEMA) return;
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
