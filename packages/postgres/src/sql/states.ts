// Saved state (a loop's cursor): the migration's `states` table and the statements on it. A value
// is kept only for the holder of the key's plain lease, and never under a smaller fence than the
// one stored, both checked in the one statement that writes it.
import type { Liveness } from './rows.js';

/** The migration's part for saved state: one row per key, apart from the locks. */
export const statesTableSql = (schema: string) => `CREATE TABLE IF NOT EXISTS "${schema}".states (
  key text PRIMARY KEY,
  value text NOT NULL,
  fence bigint NOT NULL,
  saved_at timestamptz NOT NULL
);`;

/**
 * $1 key, $2 owner, $3 fence (NULL: the lease's own), $4 value. `l` says whether the key's row
 * is a live grant: by TTL in table mode, by TTL and the holder's session in advisory mode.
 *
 * The lease row is locked `FOR SHARE`: a takeover (an acquire's upsert of that row) waits for the
 * save to commit, and a save that waited for a takeover reads the row again and finds another
 * owner. So a save is kept only if its owner held the lease at the moment it was written, and a
 * stale holder's save that lands after a newer one is refused by the fence comparison, which
 * ON CONFLICT makes on the latest stored row. A permits header (owner '') is never a lease.
 */
export const saveStateSql = (s: string, l: Liveness) => `WITH ${l.cte ? `${l.cte},` : ''}
lease AS (SELECT h.fence FROM "${s}".locks h
  WHERE h.key = $1::text AND h.owner = $2::text AND h.permit_limit IS NULL AND ${l.live} FOR SHARE OF h),
w AS (INSERT INTO "${s}".states AS st (key, value, fence, saved_at)
  SELECT $1::text, $4::text, coalesce($3::int8, lease.fence), statement_timestamp() FROM lease
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, fence = excluded.fence, saved_at = excluded.saved_at
  WHERE st.fence <= excluded.fence
  RETURNING 1)
SELECT count(*) > 0 AS saved FROM w`;

/** $1 key. */
export const loadStateSql = (s: string) => `SELECT value, fence::text AS fence,
  (extract(epoch FROM saved_at) * 1000)::float8 AS saved_ms FROM "${s}".states WHERE key = $1::text`;

/** $1 key. */
export const deleteStateSql = (s: string) =>
  `WITH d AS (DELETE FROM "${s}".states WHERE key = $1::text RETURNING 1) SELECT count(*) > 0 AS deleted FROM d`;
