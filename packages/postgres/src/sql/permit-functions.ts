// The migration's part for concurrency limits: the `permits` table and the functions that
// change it. Permits are rows, one per (key, owner), each with its own fence (from the one
// sequence plain leases use), expiry by the database clock, and in advisory mode the session
// (pid, lock_id) whose shared advisory lock keeps it alive, as a `locks` row does.
//
// While a key is held by permits, its `locks` row is a header: owner '' (core refuses an empty
// owner), the limit in `permit_limit`, and an expiry far in the future. A plain acquire finds it
// live and refuses with its limit; nothing but these functions removes it. That is what keeps a
// plain lease and permits of one key apart: a plain acquire is one statement whose snapshot is
// older than any permit committed while it waited, but it always meets the header's row lock.
//
// Every change to a key's permits runs in a function that first takes a transaction-scoped
// advisory lock of the key (in the two-key space, which never meets the session locks advisory
// mode holds in the one-key space), then locks the key's permit rows, then the header: each
// statement after a wait gets a fresh snapshot (READ COMMITTED, a VOLATILE function), so two
// acquires can never both count "2 of 3 held". Locks are always taken permits first, header
// second, so nothing waits for a permit row while holding a header.
import { fenceTake } from './fences.js';
import { BY_SESSION, INDEX_SCANS, ownGrantLive } from './rows.js';
import { WAITER_TTL } from './waiters.js';

/** The header's owner and expiry: no user owner is empty; it never expires on its own. */
const HEADER_OWNER = "''";
const FOREVER = "'9999-12-31 00:00:00+00'::timestamptz";
const { live } = BY_SESSION;
const expiry = "statement_timestamp() + p_ttl * interval '1 millisecond'";

export function permitFunctionsSql(schema: string): string {
  const s = `"${schema}"`;
  const firstEnding = `SELECT h.owner, h.fence, h.since, h.expires_at
      INTO holder_owner, holder_fence, holder_since, holder_expires
      FROM ${s}.permits h WHERE h.key = p_key AND ${live} ORDER BY h.expires_at LIMIT 1`;
  // A granted waiter leaves the key's waiters.
  // The key's locks (see the top of this file), written into each function that takes them: a
  // call of a PL/pgSQL function from another costs more than these statements.
  // `permit_rows` (each function declares it) counts the key's permit rows then: only calls under
  // the key's lock add any, so none appears while the caller holds it (a close may remove some).
  const lockKey = `PERFORM pg_advisory_xact_lock((p_lock_id >> 32)::int4, (p_lock_id << 32 >> 32)::int4);
  PERFORM 1 FROM ${s}.permits h WHERE h.key = p_key FOR UPDATE;
  GET DIAGNOSTICS permit_rows = ROW_COUNT`;
  // Settling a key: its ended permits go, and its header with the last permit.
  const anyPermit = `SELECT 1 FROM ${s}.permits h WHERE h.key = p_key`;
  const dropEnded = `DELETE FROM ${s}.permits h WHERE h.key = p_key AND NOT ${live}`;
  const dropHeader = `DELETE FROM ${s}.locks h WHERE h.key = p_key AND h.permit_limit IS NOT NULL`;
  const leaveQueue = `IF p_waiter IS NOT NULL THEN
    DELETE FROM ${s}.waiters q WHERE q.key = p_key AND q.owner = p_owner;
  END IF`;
  return `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${s}.locks'::regclass AND attname = 'permit_limit' AND NOT attisdropped) THEN
    ALTER TABLE ${s}.locks ADD COLUMN permit_limit integer;
  END IF;
END $$;
CREATE TABLE IF NOT EXISTS ${s}.permits (
  key text NOT NULL,
  owner text NOT NULL,
  permit_limit integer NOT NULL,
  fence bigint NOT NULL,
  since timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  pid integer,
  lock_id bigint,
  PRIMARY KEY (key, owner)
);
CREATE OR REPLACE FUNCTION ${s}.permit_settle(p_key text) RETURNS integer
LANGUAGE plpgsql ${INDEX_SCANS} AS $f$
BEGIN
  ${dropEnded};
  IF EXISTS (${anyPermit}) THEN
    RETURN (SELECT h.permit_limit FROM ${s}.locks h WHERE h.key = p_key);
  END IF;
  ${dropHeader};
  RETURN NULL;
END $f$;
CREATE OR REPLACE FUNCTION ${s}.permit_clear(p_key text, p_lock_id int8) RETURNS integer
LANGUAGE plpgsql ${INDEX_SCANS} AS $f$
DECLARE permit_rows integer;
BEGIN
  ${lockKey};
  PERFORM set_config('synchronous_commit', 'off', true);
  RETURN ${s}.permit_settle(p_key);
END $f$;
-- p_own_id: the lock id whose count the caller gives back with this release (NULL: none), so
-- that its own permit is told live without a pg_locks scan (see ownGrantLive). The key's state
-- is settled here, not by a call of permit_settle: a call costs more than its statements.
CREATE OR REPLACE FUNCTION ${s}.permit_release(p_key text, p_owner text, p_lock_id int8, p_channel text, p_own_id int8) RETURNS boolean
LANGUAGE plpgsql ${INDEX_SCANS} AS $f$
DECLARE was_live boolean; permit_rows integer;
BEGIN
  ${lockKey};
  PERFORM set_config('synchronous_commit', 'off', true);
  DELETE FROM ${s}.permits h WHERE h.key = p_key AND h.owner = p_owner RETURNING ${ownGrantLive('p_own_id')} INTO was_live;
  IF FOUND THEN
    -- The last permit leaves (the common case) with nothing left to end.
    IF permit_rows > 1 THEN
      ${dropEnded};
      IF NOT EXISTS (${anyPermit}) THEN
        ${dropHeader};
      END IF;
    ELSE
      ${dropHeader};
    END IF;
    -- Spares a call of wake when nobody waits; a fresh snapshot under the key's lock sees every
    -- waiter that joined under it before, so none is missed.
    IF EXISTS (SELECT 1 FROM ${s}.waiters q WHERE q.key = p_key) THEN
      PERFORM ${s}.wake(p_key);
    END IF;
  END IF;
  RETURN was_live;
END $f$;
-- The call of releases before schema version 6.
CREATE OR REPLACE FUNCTION ${s}.permit_release(p_key text, p_owner text, p_lock_id int8, p_channel text) RETURNS boolean
LANGUAGE sql AS $f$
  SELECT ${s}.permit_release(p_key, p_owner, p_lock_id, p_channel, NULL::int8)
$f$;
CREATE OR REPLACE FUNCTION ${s}.permit_acquire(p_key text, p_owner text, p_ttl float8, p_limit integer, p_lock_id int8, p_pid integer,
  p_waiter integer,
  OUT granted_fence bigint, OUT held_limit integer,
  OUT holder_owner text, OUT holder_fence bigint, OUT holder_since timestamptz, OUT holder_expires timestamptz)
LANGUAGE plpgsql ${INDEX_SCANS} AS $f$
DECLARE r record; permit_rows integer;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  -- A key visibly full, none of it ours, is refused before the lock, unless the caller waits: a
  -- waiter joins the key's waiters under the lock, where a release cannot slip past it unseen.
  IF p_waiter IS NULL AND (SELECT count(*) FILTER (WHERE h.permit_limit = p_limit) >= p_limit AND count(*) FILTER (WHERE h.owner = p_owner) = 0
      FROM ${s}.permits h WHERE h.key = p_key AND ${live}) THEN
    held_limit := p_limit;
    ${firstEnding};
    RETURN;
  END IF;
  ${lockKey};
  LOOP
    -- Waits for a plain acquire of the key in flight; the fresh snapshot below then sees its row.
    -- A header made here is known without reading it back.
    INSERT INTO ${s}.locks AS h (key, owner, fence, since, expires_at, permit_limit)
      VALUES (p_key, ${HEADER_OWNER}, 0, statement_timestamp(), ${FOREVER}, p_limit) ON CONFLICT (key) DO NOTHING
      RETURNING h.*, true AS live INTO r;
    EXIT WHEN FOUND;
    SELECT h.*, ${live} AS live INTO r FROM ${s}.locks h WHERE h.key = p_key FOR UPDATE;
    EXIT WHEN FOUND;
  END LOOP;
  IF r.permit_limit IS NULL AND r.live THEN
    held_limit := 1;
    SELECT r.owner, r.fence, r.since, r.expires_at INTO holder_owner, holder_fence, holder_since, holder_expires;
    RETURN;
  ELSIF r.permit_limit IS NULL THEN
    -- A plain lease that has ended: its row becomes the header.
    UPDATE ${s}.locks h SET owner = ${HEADER_OWNER}, fence = 0, since = statement_timestamp(), expires_at = ${FOREVER},
      pid = NULL, lock_id = NULL, permit_limit = p_limit WHERE h.key = p_key;
  ELSIF r.permit_limit <> p_limit THEN
    held_limit := ${s}.permit_settle(p_key);
    IF held_limit IS NOT NULL THEN
      ${firstEnding};
      RETURN;
    END IF;
    INSERT INTO ${s}.locks (key, owner, fence, since, expires_at, permit_limit)
      VALUES (p_key, ${HEADER_OWNER}, 0, statement_timestamp(), ${FOREVER}, p_limit);
  END IF;
  held_limit := p_limit;
  -- A key without permit rows (the common case of a free key) has none to renew, end or count.
  IF permit_rows > 0 THEN
    -- Re-entrant: the same owner keeps its fence and restarts its TTL (and moves to this session).
    UPDATE ${s}.permits h SET expires_at = ${expiry}, pid = p_pid, lock_id = p_lock_id
      WHERE h.key = p_key AND h.owner = p_owner AND ${live} RETURNING h.fence INTO granted_fence;
    IF FOUND THEN
      ${leaveQueue};
      RETURN;
    END IF;
    ${dropEnded};
    IF (SELECT count(*) FROM ${s}.permits h WHERE h.key = p_key) >= p_limit THEN
      ${firstEnding};
      -- Full: a waiter joins the key's waiters, keeping its place if it had one (see waiters.ts).
      IF p_waiter IS NOT NULL THEN
        INSERT INTO ${s}.waiters AS q (key, owner, since, pid, expires_at)
          VALUES (p_key, p_owner, clock_timestamp(), p_waiter, statement_timestamp() + ${WAITER_TTL})
          ON CONFLICT (key, owner) DO UPDATE SET pid = excluded.pid, expires_at = excluded.expires_at, woken_at = NULL;
      END IF;
      RETURN;
    END IF;
  END IF;
  -- Table mode's permit (no session) must outlive a crash: its commit waits for the flush. The
  -- fence is taken last, under the key's locks, so raising its ceiling here waits for nothing else.
  IF p_pid IS NULL THEN
    PERFORM set_config('synchronous_commit', 'on', true);
  END IF;
  INSERT INTO ${s}.permits (key, owner, permit_limit, fence, since, expires_at, pid, lock_id)
    VALUES (p_key, p_owner, p_limit, ${fenceTake(schema)}, statement_timestamp(), ${expiry}, p_pid, p_lock_id)
    RETURNING fence INTO granted_fence;
  ${leaveQueue};
END $f$;
-- The call of releases before schema version 3, which did not wait in the key's waiters.
CREATE OR REPLACE FUNCTION ${s}.permit_acquire(p_key text, p_owner text, p_ttl float8, p_limit integer, p_lock_id int8, p_pid integer,
  OUT granted_fence bigint, OUT held_limit integer,
  OUT holder_owner text, OUT holder_fence bigint, OUT holder_since timestamptz, OUT holder_expires timestamptz)
LANGUAGE sql AS $f$
  SELECT * FROM ${s}.permit_acquire(p_key, p_owner, p_ttl, p_limit, p_lock_id, p_pid, NULL::integer)
$f$;`;
}
