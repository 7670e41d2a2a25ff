// Direct handoff (schema version 5). A plain release hands the key to the oldest waiter in its
// own statement, so the waiter needs no acquire statement of its own: one hop (the NOTIFY)
// instead of three (NOTIFY, acquire statement, reply).
//
// What makes the handed grant safe is the waiter's terms, which its join stores and each re-join
// rewrites (see joinWaiters): its TTL, and its anchor, the waiter process's performance.now()
// when it sent that join. The hand sets the row's expiry from clock_timestamp() (not the release
// statement's start, which can precede the join it waited for), so the TTL starts after the join
// was processed, which is after it was sent: counting local validity from the anchor (core's
// `validFrom`) never outlasts the row. The NOTIFY hands the fence and the terms back.
//
// Advisory mode: a `locks` row lives only while its session holds a count of the key's lock id.
// So a waiter keeps the count of its refused acquire while it waits, its row names that session
// (lock_pid, lock_id), and the hand goes to it only if pg_locks shows that session holds the
// count: the handed row then names it and lives on that count.
//
// The hand takes the fence last, with the draw that never raises the ceiling (see fences.ts): it
// holds the key's row (the release deleted it) and waits for no lock after it (the waiter's row is
// taken with SKIP LOCKED, and nothing else can insert the key while our delete is uncommitted). At
// the ceiling, or when anything else stands in the way, the waiter is only woken, as before.
//
// Rows without terms (joined by releases before version 5, or by permits) are only woken, never
// handed to. Releases before version 5 call `wake`, which is unchanged: they never hand.
import { fenceTry } from './fences.js';
import { INDEX_SCANS, sessionHolds } from './rows.js';
import { oldestWaiter } from './waiters.js';

/** `hand`'s results: nobody to wake, one waiter woken, the key handed, handed to a table-mode waiter. */
export const HAND = { none: 0, woken: 1, handed: 2, handedDurable: 3 } as const;

/** The migration's part for direct handoff: the function `hand`. */
export function handSql(schema: string): string {
  const s = `"${schema}"`;
  return `CREATE OR REPLACE FUNCTION ${s}.hand(p_key text) RETURNS integer
LANGUAGE plpgsql ${INDEX_SCANS} AS $f$
DECLARE v record; f bigint; t timestamptz;
BEGIN
  SELECT w.owner, w.pid, w.ttl_ms, w.anchor, w.lock_pid, w.lock_id INTO v ${oldestWaiter(s)};
  IF NOT FOUND THEN RETURN ${HAND.none}; END IF;
  IF v.anchor IS NOT NULL AND v.ttl_ms IS NOT NULL AND (v.lock_pid IS NULL OR ${sessionHolds('v.lock_pid', 'v.lock_id')}) THEN
    f := ${fenceTry(schema)};
    IF f IS NOT NULL THEN
      t := clock_timestamp();
      INSERT INTO ${s}.locks (key, owner, fence, since, expires_at, pid, lock_id)
      VALUES (p_key, v.owner, f, t, t + v.ttl_ms * interval '1 millisecond', v.lock_pid, v.lock_id)
      ON CONFLICT (key) DO NOTHING;
      IF FOUND THEN
        DELETE FROM ${s}.waiters q WHERE q.key = p_key AND q.owner = v.owner;
        PERFORM pg_notify('oncelock!' || v.pid, json_build_array(v.owner, p_key, f::text, v.anchor, v.ttl_ms)::text);
        -- A table-mode grant must outlive a crash: its commit waits for the flush. (The release
        -- statement sets its commit mode from this result, after the call.)
        IF v.lock_pid IS NULL THEN RETURN ${HAND.handedDurable}; END IF;
        RETURN ${HAND.handed};
      END IF;
    END IF;
  END IF;
  -- Wakes the same waiter (the row is ours now), as releases before version 5 do.
  RETURN CASE WHEN ${s}.wake(p_key) THEN ${HAND.woken} ELSE ${HAND.none} END;
END $f$;`;
}

/** A release statement's commit mode, given `r`, the SQL of its `hand` result (NULL: no call). */
export const handCommit = (r: string) => `CASE WHEN ${r} = ${HAND.handedDurable} THEN 'on' ELSE 'off' END`;
