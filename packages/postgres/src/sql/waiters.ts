// Wake one waiter per release (schema version 3). A caller that waits for a key joins the key's
// waiters with the acquire that refuses it: a row in `waiters`, ordered by when it first joined,
// naming the LISTEN session (pid) that hears its wake-ups. A release, and anything else that
// frees a key (a close, a session found dead, a woken waiter that no longer waits), wakes the
// oldest waiter still worth waking: its row is marked woken and one NOTIFY goes to its LISTEN
// session alone, on the channel `oncelock!<pid>`, naming the waiter; that waiter then runs its
// acquire. Every other process sleeps on. Since version 5 a plain release hands the key to that
// waiter instead, when it can (see hand.ts): the waiter then needs no acquire of its own.
//
// A wake-up must not be lost between a waiter that joins and a release that picks:
// - A refused plain acquire joins only while it holds a KEY SHARE lock on the holder's row, taken
//   in the same statement. A release's DELETE waits for it, and the release picks in a function,
//   whose statement takes a fresh snapshot after the DELETE: it sees the waiter that committed
//   first. A joiner that finds no live holder row to lock (the release came first) joins
//   nothing, and says so (`joined` false): the backend tries again at once.
// - Permits join and wake under the key's transaction lock (see permit-functions.ts).
//
// A waiter must not swallow a wake-up either:
// - A waiter whose LISTEN session has ended (its process died) is never picked; nor is one whose
//   row expired (a minute after it last joined: core's fallback poll refreshes it every second).
// - A woken waiter is not picked again until it joins again (refused once more, it keeps its
//   place), so a frozen one swallows at most one wake-up, which core's fallback poll of the
//   others covers, and successive releases of permits wake successive waiters.
// - A waiter that stops waiting gives its place up, and a wake-up that reaches a process where
//   nobody waits for the key any more is passed on (`pass_on`) to the next waiter.
import { BY_SESSION, INDEX_SCANS } from './rows.js';

/** How long a waiter's row lives after it last joined. Core's fallback poll joins again every second or so. */
export const WAITER_TTL = "interval '60 seconds'";

/** The NOTIFY channel of the LISTEN session `pid`: it hears the wake-ups of its backend's waiters. */
export const wakeChannel = (pid: number): string => `oncelock!${pid}`;

/**
 * The FROM clause that picks `p_key`'s oldest waiter worth waking (alias `w`), and locks its row:
 * not woken since it last joined, not expired, its LISTEN session alive.
 */
export const oldestWaiter = (s: string) => `FROM ${s}.waiters w
  WHERE w.key = p_key AND w.woken_at IS NULL AND w.expires_at > clock_timestamp()
    AND EXISTS (SELECT 1 FROM pg_stat_get_activity(w.pid))
  ORDER BY w.since, w.owner LIMIT 1 FOR UPDATE SKIP LOCKED`;

/**
 * The migration's part for waiters: the table (with the terms of version 5, see hand.ts) and the
 * functions `wake` and `pass_on`.
 */
export function waitersSql(schema: string): string {
  const s = `"${schema}"`;
  return `CREATE UNLOGGED TABLE IF NOT EXISTS ${s}.waiters (
  key text NOT NULL,
  owner text NOT NULL,
  since timestamptz NOT NULL,
  pid integer NOT NULL,
  expires_at timestamptz NOT NULL,
  woken_at timestamptz,
  PRIMARY KEY (key, owner)
);
ALTER TABLE ${s}.waiters ADD COLUMN IF NOT EXISTS ttl_ms float8, ADD COLUMN IF NOT EXISTS anchor float8,
  ADD COLUMN IF NOT EXISTS lock_pid integer, ADD COLUMN IF NOT EXISTS lock_id bigint;
CREATE OR REPLACE FUNCTION ${s}.wake(p_key text) RETURNS boolean
LANGUAGE plpgsql ${INDEX_SCANS} AS $f$
DECLARE v record;
BEGIN
  UPDATE ${s}.waiters q SET woken_at = clock_timestamp() FROM (SELECT w.owner ${oldestWaiter(s)}) o
  WHERE q.key = p_key AND q.owner = o.owner
  RETURNING q.owner, q.pid INTO v;
  IF NOT FOUND THEN RETURN false; END IF;
  PERFORM pg_notify('oncelock!' || v.pid, json_build_array(v.owner, p_key)::text);
  RETURN true;
END $f$;
CREATE OR REPLACE FUNCTION ${s}.pass_on(p_key text, p_owner text) RETURNS boolean
LANGUAGE plpgsql ${INDEX_SCANS} AS $f$
DECLARE header record;
BEGIN
  IF p_owner IS NOT NULL THEN
    DELETE FROM ${s}.waiters q WHERE q.key = p_key AND q.owner = p_owner;
  END IF;
  SELECT h.permit_limit INTO header FROM ${s}.locks h WHERE h.key = p_key AND ${BY_SESSION.live};
  IF FOUND AND (header.permit_limit IS NULL OR (SELECT count(*) FROM ${s}.permits h
      WHERE h.key = p_key AND ${BY_SESSION.live}) >= header.permit_limit) THEN
    RETURN false;
  END IF;
  RETURN ${s}.wake(p_key);
END $f$;`;
}

/**
 * The CTEs by which a refused plain acquire joins the key's waiters, and a granted one leaves
 * them. `w` is the acquire's upsert CTE; `waiter` the SQL of the waiter's LISTEN pid (NULL: the
 * caller does not wait); `guard` an extra condition. `joined` is what the statement reads. The
 * terms a release hands the key on (see hand.ts): `ttl`, `anchor` (NULL: never hand to this
 * waiter), and in advisory mode the session `lockPid` that keeps a count of `lockId` while it
 * waits. A join again rewrites them and keeps the waiter's place.
 */
export function joinWaiters(
  s: string,
  live: string,
  p: {
    key: string;
    owner: string;
    waiter: string;
    guard?: string;
    ttl: string;
    anchor: string;
    lockPid: string;
    lockId: string;
  },
): string {
  const waiting = `${p.waiter}::int IS NOT NULL${p.guard ? ` AND ${p.guard}` : ''}`;
  return `k AS (SELECT h.key FROM "${s}".locks h
  WHERE ${waiting} AND NOT EXISTS (SELECT 1 FROM w) AND h.key = ${p.key}::text AND h.owner <> ${p.owner}::text
    AND h.permit_limit IS NULL AND ${live} FOR KEY SHARE OF h),
j AS (INSERT INTO "${s}".waiters AS q (key, owner, since, pid, expires_at, ttl_ms, anchor, lock_pid, lock_id)
  SELECT k.key, ${p.owner}::text, clock_timestamp(), ${p.waiter}::int, statement_timestamp() + ${WAITER_TTL},
    ${p.ttl}::float8, ${p.anchor}::float8, ${p.lockPid}, ${p.lockId} FROM k
  ON CONFLICT (key, owner) DO UPDATE SET pid = excluded.pid, expires_at = excluded.expires_at, woken_at = NULL,
    ttl_ms = excluded.ttl_ms, anchor = excluded.anchor, lock_pid = excluded.lock_pid, lock_id = excluded.lock_id
  RETURNING 1),
left_queue AS (DELETE FROM "${s}".waiters q
  WHERE ${waiting} AND EXISTS (SELECT 1 FROM w) AND q.key = ${p.key}::text AND q.owner = ${p.owner}::text)`;
}

/**
 * The column a statement with {@link joinWaiters} returns: whether the caller is now among the
 * waiters. (`left_queue` runs unread: PostgreSQL runs every data-modifying CTE to completion.)
 */
export const JOINED = 'EXISTS (SELECT 1 FROM j) AS joined';

/**
 * $1 keys, $2 owners (NULL: nobody to drop): drops each owner's place (a waiter that stopped
 * waiting, or a wake-up nobody heard) and wakes the key's next waiter if the key has room.
 */
export const passOnSql = (s: string) =>
  `SELECT count(*) FILTER (WHERE "${s}".pass_on(r.key, r.owner)) AS woken FROM unnest($1::text[], $2::text[]) AS r(key, owner)`;

/** Deletes up to 1000 waiters' rows that expired: of waiters that died or stopped without a word. */
export const pruneWaitersSql = (s: string) => `DELETE FROM "${s}".waiters WHERE (key, owner) IN (
  SELECT key, owner FROM "${s}".waiters WHERE expires_at < statement_timestamp() LIMIT 1000 FOR UPDATE SKIP LOCKED)`;
