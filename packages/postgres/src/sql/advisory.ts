// Advisory mode. Every statement runs on the backend's one lock connection and opens with the
// session check `mine`: the session's marker must be the one this backend set when it
// connected. Behind a transaction pooler a statement can land on another server session; the
// check makes such a statement change nothing, and tells the backend it is behind a pooler.
//
// Each grant this session makes holds one count of a shared advisory lock on the key's lock id
// (shared, so that a claim can pass to another session, such as the worker that runs a job,
// without waiting for the first one to let go). Counts stack per session: the backend keeps one
// per grant and gives each back exactly once.
//
// No statement waits for its commit to be flushed. A grant's row means nothing once its session
// is gone, and a server crash ends every session, so losing any of these statements in a crash is
// harmless; the fences they hand out are kept safe by the ceiling (see fences.ts).
import { handCommit } from './hand.js';
import { permitAcquire, permitRelease, permitResult } from './permits.js';
import {
  BY_SESSION,
  BY_SESSION_SNAPSHOT,
  commitMode,
  deleteOwn,
  extendMany,
  extendMixed,
  NO_FENCE,
  ownGrantLive,
  refusalHolder,
  upsert,
} from './rows.js';
import { JOINED, joinWaiters } from './waiters.js';

const { live } = BY_SESSION;

const MINE = `SELECT current_setting('oncelock.session', true) IS NOT DISTINCT FROM $1::text AS mine`;

/**
 * Marks the session as this backend's. $1 marker. `prior` is set only if another client already
 * used this server session, which happens behind a pooler.
 */
export const CLAIM_SESSION = `SELECT current_setting('oncelock.session', true) AS prior,
  set_config('oncelock.session', $1::text, false) AS marker`;

/**
 * $1 marker, $2 lock id, $3 key, $4 owner, $5 ttl ms, $6 whether this session already holds a
 * count for this pair (a re-entrant acquire, or a waiter's kept count), $7 the waiter's LISTEN pid
 * (NULL unless the caller waits), $8 its anchor (NULL: no terms for a hand; see hand.ts). A fresh
 * count that wins nothing is given back in the same statement (`unlocked`), unless the refused
 * caller joined the key's waiters with terms: then the session keeps it while it waits (`kept`),
 * so that a release can hand it the key. A granted caller leaves the waiters (see waiters.ts).
 * `no_fence`: nothing was taken because the fence ceiling must be raised first (see fences.ts).
 */
export const acquireSql = (s: string) => `WITH s AS (${MINE}),
l AS (SELECT CASE WHEN NOT s.mine THEN false WHEN $6::bool THEN true ELSE pg_try_advisory_lock_shared($2::int8) END AS locked FROM s),
${upsert(s, live, { key: '$3', owner: '$4', ttl: '$5', pid: 'pg_backend_pid()', lockId: '$2::int8', from: 'l', when: 'l.locked' })},
${joinWaiters(s, live, { key: '$3', owner: '$4', waiter: '$7', guard: '(SELECT mine FROM s)', ttl: '$5', anchor: '$8', lockPid: 'pg_backend_pid()', lockId: '$2::int8' })},
kept AS (SELECT l.locked AND $8::float8 IS NOT NULL AND EXISTS (SELECT 1 FROM j) AS kept FROM l),
u AS (SELECT pg_advisory_unlock_shared($2::int8) AS ok FROM l, kept
  WHERE l.locked AND NOT $6::bool AND NOT EXISTS (SELECT 1 FROM w) AND NOT kept.kept)
SELECT s.mine, (SELECT fence FROM w)::text AS granted_fence, ${NO_FENCE}, (SELECT ok FROM u) AS unlocked, ${JOINED},
  (SELECT kept FROM kept) AS kept, holder.*, ${commitMode("'off'")} AS commit_mode
FROM s ${refusalHolder(s, live, '$3', 'EXISTS (SELECT 1 FROM w)')}`;

/** $1 marker, $2 keys, $3 owners, $4 ttls. */
export const extendSql = (s: string) => `WITH s AS (${MINE}), ${BY_SESSION_SNAPSHOT.cte},
u AS (${extendMany(s, BY_SESSION_SNAPSHOT.live, '$2', '$3', '$4', '(SELECT mine FROM s)')})
SELECT s.mine, array(SELECT ord FROM u) AS held, ${commitMode("'off'")} AS commit_mode FROM s`;

/**
 * $1 marker, $2 key, $3 owner, $4 the lock id to give one count back for (NULL when this session
 * made no grant for it). The row is deleted (and its liveness read) before the count is given
 * back; then the key is handed to its next waiter, or that waiter woken (see hand.ts).
 */
export const releaseSql = (s: string) => `WITH s AS (${MINE}),
d AS (${deleteOwn(s, ownGrantLive('$4'), '$2', '$3', '(SELECT mine FROM s)')}),
u AS (SELECT pg_advisory_unlock_shared($4::int8) AS ok FROM s WHERE s.mine AND $4::int8 IS NOT NULL AND (SELECT count(*) FROM d) >= 0),
n AS (SELECT "${s}".hand(d.key) AS r FROM d)
SELECT s.mine, (SELECT live FROM d) AS live, (SELECT ok FROM u) AS unlocked, (SELECT r FROM n) AS handed,
  ${commitMode(handCommit('(SELECT r FROM n)'))} AS commit_mode FROM s`;

/** $1 marker, $2 lock ids: gives one count back for each. `unlocked` has one boolean per id. */
export const unlockSql = `WITH s AS (${MINE}),
r AS (SELECT r.ord, CASE WHEN s.mine THEN pg_advisory_unlock_shared(r.id) END AS ok
      FROM unnest($2::int8[]) WITH ORDINALITY AS r(id, ord), s)
SELECT s.mine, array(SELECT coalesce(r.ok, false) FROM r ORDER BY r.ord) AS unlocked FROM s`;

/**
 * $1 marker. Deletes this session's rows (leases and permits) and wakes each key's next waiter,
 * before the session ends. A key's header stays until the next permit call on it.
 */
export const closeSql = (s: string) => `WITH s AS (${MINE}),
d AS (DELETE FROM "${s}".locks h USING s WHERE s.mine AND h.pid = pg_backend_pid() AND h.lock_id IS NOT NULL RETURNING h.key),
p AS (DELETE FROM "${s}".permits h USING s WHERE s.mine AND h.pid = pg_backend_pid() RETURNING h.key)
SELECT s.mine, (SELECT count(*) FILTER (WHERE "${s}".wake(k.key)) FROM (SELECT key FROM d UNION SELECT key FROM p) k) AS notified,
  ${commitMode("'off'")} AS commit_mode FROM s`;

/**
 * $1 marker, $2 lock id, $3 key, $4 owner, $5 ttl ms, $6 re-entrant, as {@link acquireSql}; $7
 * limit, $8 the waiter's LISTEN pid (NULL unless the caller waits). The function decides under the
 * key's lock (see permit-functions.ts); the session's count is taken before it and given back in
 * the same statement if nothing was granted.
 */
export const permitAcquireSql = (s: string) => `WITH s AS (${MINE}),
l AS (SELECT CASE WHEN NOT s.mine THEN false WHEN $6::bool THEN true ELSE pg_try_advisory_lock_shared($2::int8) END AS locked FROM s),
p AS (SELECT ${permitAcquire(s, '$3::text, $4::text, $5::float8, $7::int, $2::int8, pg_backend_pid(), $8::int')} AS r FROM l WHERE l.locked),
u AS (SELECT pg_advisory_unlock_shared($2::int8) AS ok FROM l WHERE l.locked AND NOT $6::bool AND NOT EXISTS (SELECT 1 FROM p WHERE (p.r).granted_fence IS NOT NULL))
SELECT s.mine, (SELECT ok FROM u) AS unlocked, x.* FROM s
LEFT JOIN LATERAL (${permitResult('(SELECT (p.r).* FROM p) r')}) x ON true`;

/** $1 marker, $2 key, $3 owner, $4 channel, $5 the lock id to give one count back for (or NULL), as {@link releaseSql}; $6 the key's lock id. */
export const permitReleaseSql = (s: string) => `WITH s AS (${MINE}),
d AS (SELECT ${permitRelease(s, '$2::text, $3::text, $6::int8, $4::text, $5::int8')} AS live FROM s WHERE s.mine),
u AS (SELECT pg_advisory_unlock_shared($5::int8) AS ok FROM s WHERE s.mine AND $5::int8 IS NOT NULL AND (SELECT count(*) FROM d) >= 0)
SELECT s.mine, (SELECT live FROM d) AS live, (SELECT ok FROM u) AS unlocked FROM s`;

/** $1 marker, $2 keys, $3 owners, $4 ttls, $5 limits (NULL for a plain lease): a batch with permits in it. */
export const extendMixedSql = (s: string) => `WITH s AS (${MINE}), ${BY_SESSION_SNAPSHOT.cte},
${extendMixed(s, BY_SESSION_SNAPSHOT.live, 2, '(SELECT mine FROM s)')}
SELECT s.mine, array(SELECT ord FROM extended) AS held, ${commitMode("'off'")} AS commit_mode FROM s`;
