// SQL shared by both modes. Both keep their grants in one table, `locks`: one row per held key.
// The row decides who holds a key (an atomic upsert, so two contenders can never both win).
// Table mode writes rows with no session (pid NULL): a row lives until its expiry, by the
// database clock. Advisory mode also names its session (pid, lock_id) and holds a shared
// advisory lock on lock_id there: its row dies at once when that session ends. Processes in
// either mode, on the same schema, exclude each other; table mode sees an advisory row of an
// ended session as held until its TTL (see BY_TTL).
import { fenceTry } from './fences.js';

/**
 * A `SET` clause for the functions that scan `permits` or `waiters` by key. Each permit taken and
 * given back, and each wait, leaves a dead entry under its key in the table's index: the rows are
 * keyed by (key, owner), each with an owner of its own, so no uniqueness check of a later row
 * visits the entry and marks it dead (as happens under a plain lease's key in `locks`). A plain
 * index scan marks the dead entries it passes, and later scans skip them; a bitmap scan, which
 * the planner picks for these small lookups, marks none, so they piled up until a vacuum and
 * every scan of a busy key walked them all. The setting holds while the function runs.
 */
export const INDEX_SCANS = 'SET enable_bitmapscan = off';

/** Row `h` has not expired, by the database clock. */
export const UNEXPIRED = 'h.expires_at > statement_timestamp()';
const DATABASE = '(SELECT oid FROM pg_database WHERE datname = current_database())';

/**
 * Whether server session `pid` holds a count of the shared advisory lock `id` (SQL expressions),
 * read from pg_locks: what keeps an advisory-mode row alive.
 */
export const sessionHolds = (pid: string, id: string) => `EXISTS (
  SELECT 1 FROM pg_locks k
  WHERE k.locktype = 'advisory' AND k.objsubid = 1 AND k.granted AND k.pid = ${pid} AND k.database = ${DATABASE}
    AND k.classid = ((${id} >> 32) & 4294967295)::oid AND k.objid = (${id} & 4294967295)::oid)`;

/** How a statement decides whether row `h` is a live grant. `cte` is what `live` needs in the WITH list. */
export interface Liveness {
  readonly cte: string;
  readonly live: string;
}

/**
 * Table mode: a row lives until its expiry. An advisory-mode row whose session has ended therefore
 * looks held to table mode until its TTL, which is safe, and keeps table mode's statements cheap
 * (no pg_locks), which matters because behind a pooler they are planned afresh every time.
 */
export const BY_TTL: Liveness = { cte: '', live: `(${UNEXPIRED})` };

/**
 * Advisory mode, for statements that decide a grant: a row with a session lives only while that
 * session holds the shared lock on its lock_id, read from pg_locks at the moment the row is
 * looked at (again after waiting for another writer's row lock, so never stale).
 */
export const BY_SESSION: Liveness = {
  cte: '',
  live: `(${UNEXPIRED} AND (h.pid IS NULL OR ${sessionHolds('h.pid', 'h.lock_id')}))`,
};

/**
 * Whether row `h` is live, for a statement that gives back `id`'s count (NULL: none). A row of
 * this session's own grant, whose count the backend still holds, is live until it expires: no
 * pg_locks scan needed (the one in BY_SESSION costs about as much as the rest of a release).
 */
export const ownGrantLive = (id: string) =>
  `(CASE WHEN ${id}::int8 IS NOT NULL AND h.pid = pg_backend_pid() AND h.lock_id = ${id}::int8 THEN ${UNEXPIRED} ELSE ${BY_SESSION.live} END)`;

/**
 * Advisory mode, for batches and reads: one pg_locks scan per statement (`held`), instead of one
 * per row, so a heartbeat extending thousands of leases costs one scan, not thousands.
 */
export const BY_SESSION_SNAPSHOT: Liveness = {
  cte: `held AS MATERIALIZED (
  SELECT k.pid, (k.classid::int8 << 32) | k.objid::int8 AS lock_id FROM pg_locks k
  WHERE k.locktype = 'advisory' AND k.objsubid = 1 AND k.granted AND k.database = ${DATABASE})`,
  live: `(${UNEXPIRED} AND (h.pid IS NULL OR EXISTS (SELECT 1 FROM held WHERE held.pid = h.pid AND held.lock_id = h.lock_id)))`,
};

/** `WITH` clause for a read with liveness `l` (empty if it needs no CTE). */
const withFor = (l: Liveness) => (l.cte ? `WITH ${l.cte} ` : '');

/** A holder's columns as every holder query returns them, from the SQL expressions given. */
export const holderColumns = (c: { owner: string; fence: string; since: string; expires: string }) =>
  `${c.owner} AS owner, ${c.fence}::text AS fence,
  (extract(epoch FROM ${c.since}) * 1000)::float8 AS since_ms,
  greatest(0, extract(epoch FROM ${c.expires} - statement_timestamp()) * 1000)::float8 AS ttl_ms`;

/**
 * Columns of a holder row (alias `h`, of `locks` or `permits`). `permit_limit` is set on a permit,
 * and on a `locks` row that is the header of a key held by permits (see permit-functions.ts).
 */
export const HOLDER_COLUMNS = `h.key, ${holderColumns({ owner: 'h.owner', fence: 'h.fence', since: 'h.since', expires: 'h.expires_at' })}, h.permit_limit`;

const expiry = (ttl: string) => `statement_timestamp() + ${ttl}::float8 * interval '1 millisecond'`;

/**
 * Takes `key` if free, dead, or already `owner`'s, as two CTEs: `f`, the new fence (see
 * fences.ts: NULL when the ceiling must be raised first, and then nothing is taken), and `w`, the
 * upsert returning the fence granted. The same owner keeps a live grant's fence and `since`;
 * anyone else gets the new fence. A fence drawn and not granted is skipped: fences have gaps,
 * never repeats. A key visibly held by someone else is refused before the fence is drawn, so
 * waiters that all wake on one release do not queue on the row lock of whoever wins it.
 * `from`/`when` gate the insert (advisory mode inserts only once its lock count is taken);
 * `pid`/`lockId` are SQL expressions.
 */
export function upsert(
  s: string,
  live: string,
  p: { key: string; owner: string; ttl: string; pid: string; lockId: string; from: string; when: string },
): string {
  return `f AS MATERIALIZED (SELECT ${fenceTry(s)} AS fence FROM ${p.from}
  WHERE ${p.when} AND NOT EXISTS (
    SELECT 1 FROM "${s}".locks h WHERE h.key = ${p.key}::text AND h.owner <> ${p.owner}::text AND ${live})),
w AS (INSERT INTO "${s}".locks AS h (key, owner, fence, since, expires_at, pid, lock_id)
  SELECT ${p.key}::text, ${p.owner}::text, f.fence, statement_timestamp(), ${expiry(p.ttl)}, ${p.pid}, ${p.lockId}
  FROM f WHERE f.fence IS NOT NULL
  ON CONFLICT (key) DO UPDATE SET
    fence = CASE WHEN h.owner = excluded.owner AND ${live} THEN h.fence ELSE excluded.fence END,
    since = CASE WHEN h.owner = excluded.owner AND ${live} THEN h.since ELSE excluded.since END,
    owner = excluded.owner, expires_at = excluded.expires_at, pid = excluded.pid, lock_id = excluded.lock_id
  WHERE h.owner = excluded.owner OR NOT ${live}
  RETURNING h.fence)`;
}

/** A column of an {@link upsert} statement: true when no fence could be drawn below the ceiling. */
export const NO_FENCE = 'EXISTS (SELECT 1 FROM f WHERE f.fence IS NULL) AS no_fence';

/**
 * Sets how the statement's transaction commits: 'on' waits for the WAL flush, 'off' does not.
 * Table mode's grants wait, so that their rows survive a crash; everything whose loss in a crash
 * is harmless passes 'off' (a fence's own durability comes from its ceiling, see fences.ts).
 */
export const commitMode = (sync: string) => `set_config('synchronous_commit', ${sync}, true)`;

/** The live holder of `key`, unless `granted` (an SQL condition) says the caller just took it. */
export const refusalHolder = (s: string, live: string, key: string, granted: string) =>
  `LEFT JOIN LATERAL (SELECT ${HOLDER_COLUMNS} FROM "${s}".locks h WHERE h.key = ${key}::text AND ${live} AND NOT ${granted}) holder ON true`;

/**
 * Compare-and-extend for a batch, as a CTE body returning the 1-based positions still held.
 * `keys`, `owners`, `ttls` are array parameters; `guard` is an extra SQL condition.
 */
export const extendMany = (
  s: string,
  live: string,
  keys: string,
  owners: string,
  ttls: string,
  guard = 'true',
) =>
  `UPDATE "${s}".locks h SET expires_at = statement_timestamp() + r.ttl * interval '1 millisecond'
  FROM unnest(${keys}::text[], ${owners}::text[], ${ttls}::float8[]) WITH ORDINALITY AS r(key, owner, ttl, ord)
  WHERE ${guard} AND h.key = r.key AND h.owner = r.owner AND ${live}
  RETURNING r.ord`;

/**
 * A batch of leases and permits, extended in one statement: `$n` array parameters of keys,
 * owners, ttls and limits (NULL for a plain lease), as {@link extendMany}. A permit row is
 * extended without the key's lock: an acquire that counts it locks it first, so waits for this.
 */
export function extendMixed(s: string, live: string, first: number, guard = 'true'): string {
  const [keys, owners, ttls, limits] = [0, 1, 2, 3].map((i) => `$${first + i}`);
  const set = "SET expires_at = statement_timestamp() + r.ttl * interval '1 millisecond'";
  const from = `FROM unnest(${keys}::text[], ${owners}::text[], ${ttls}::float8[], ${limits}::int[]) WITH ORDINALITY AS r(key, owner, ttl, lim, ord)
  WHERE ${guard} AND h.key = r.key AND h.owner = r.owner AND ${live}`;
  return `plain AS (UPDATE "${s}".locks h ${set} ${from} AND r.lim IS NULL RETURNING r.ord),
permit AS (UPDATE "${s}".permits h ${set} ${from} AND h.permit_limit = r.lim RETURNING r.ord),
extended AS (SELECT ord FROM plain UNION ALL SELECT ord FROM permit)`;
}

/** Compare-and-delete as a CTE body: deletes `owner`'s row (live or not) and says whether it was live. */
export const deleteOwn = (s: string, live: string, key: string, owner: string, guard = 'true') =>
  `DELETE FROM "${s}".locks h WHERE ${guard} AND h.key = ${key}::text AND h.owner = ${owner}::text RETURNING h.key, ${live} AS live`;

const ROW = 'h.key, h.owner, h.fence, h.since, h.expires_at, h.permit_limit';

/** Live holders matching `where` (on alias `h`): plain leases (not headers) and permits, by key, oldest first. */
const holdersWhere = (s: string, l: Liveness, where: string) =>
  `${withFor(l)}SELECT ${HOLDER_COLUMNS} FROM (
  SELECT ${ROW} FROM "${s}".locks h WHERE ${where} AND h.permit_limit IS NULL AND ${l.live}
  UNION ALL
  SELECT ${ROW} FROM "${s}".permits h WHERE ${where} AND ${l.live}
) h ORDER BY h.key, h.fence`;

/** $1 key. */
export const inspectSql = (s: string, l: Liveness) => holdersWhere(s, l, 'h.key = $1::text');

/** $1 key prefix. */
export const listSql = (s: string, l: Liveness) => holdersWhere(s, l, 'starts_with(h.key, $1::text)');

/**
 * Deletes up to 1000 leases and 1000 permits that expired over a minute ago, skipping rows someone
 * is busy with. A key's header stays: the next permit call on the key removes it once it is empty.
 */
export const pruneSql = (s: string) => `WITH plain AS (DELETE FROM "${s}".locks WHERE key IN (
  SELECT key FROM "${s}".locks WHERE expires_at < statement_timestamp() - interval '1 minute'
  LIMIT 1000 FOR UPDATE SKIP LOCKED) RETURNING 1),
permit AS (DELETE FROM "${s}".permits WHERE (key, owner) IN (
  SELECT key, owner FROM "${s}".permits WHERE expires_at < statement_timestamp() - interval '1 minute'
  LIMIT 1000 FOR UPDATE SKIP LOCKED) RETURNING 1)
SELECT (SELECT count(*) FROM plain) + (SELECT count(*) FROM permit) AS pruned`;
