// Rate limits: the migration's `rates` table and `rate_limit` function, and the statements that
// use them. GCRA keeps one number per key, its theoretical arrival time `tat`, in milliseconds on
// the database clock (epoch ms as float8, like the `now` it is compared with). The decision is the
// reference rule of core's gcra.ts, written again in PL/pgSQL with the same float8 operations in
// the same order, so that both give the same numbers for the same `tat` and `now`.
//
// Why a function: two sessions deciding on one key at once must serialize, and `now` must be
// read after the key's row lock is taken (read before, a decision that waited would be made at a
// time already past). `SELECT ... FOR UPDATE` takes the row lock and returns the latest `tat`
// (READ COMMITTED re-reads a row that changed while we waited); `clock_timestamp()` is read only
// then. A key without a row has nothing to lock: its first decisions race on the INSERT, and a
// loser (ON CONFLICT DO NOTHING) goes round the loop and locks the winner's row. A refusal writes
// nothing. It is still one round trip: one `SELECT` of the function.
//
// Decisions commit without waiting for the WAL flush (`synchronous_commit` off for the function's
// transaction): a server crash may forget the last fraction of a second of grants, which lets that
// many more starts through after the restart. A rate decision is a hot path; a flush per decision
// would cost more than the decision.

/** The migration's part for rate limits. */
export function rateFunctionsSql(schema: string): string {
  const s = `"${schema}"`;
  return `CREATE TABLE IF NOT EXISTS ${s}.rates (
  key text PRIMARY KEY,
  tat float8 NOT NULL
);
CREATE OR REPLACE FUNCTION ${s}.rate_limit(p_key text, p_limit integer, p_per float8, p_burst integer, p_reserve float8,
  OUT allowed boolean, OUT remaining float8, OUT delay float8, OUT slot_at float8, OUT retry_after float8,
  OUT now_ms float8, OUT prev_tat float8, OUT new_tat float8)
LANGUAGE plpgsql AS $f$
DECLARE
  t float8 := p_per / p_limit;
  tau float8 := p_burst * t;
  base float8;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  LOOP
    SELECT r.tat INTO prev_tat FROM ${s}.rates r WHERE r.key = p_key FOR UPDATE;
    now_ms := extract(epoch FROM clock_timestamp()) * 1000;
    base := greatest(coalesce(prev_tat, now_ms), now_ms);
    delay := greatest(0, base - tau - now_ms);
    IF delay > p_reserve THEN
      allowed := false;
      retry_after := ceil(delay);
      new_tat := prev_tat;
      RETURN;
    END IF;
    new_tat := base + t;
    IF prev_tat IS NOT NULL THEN
      UPDATE ${s}.rates r SET tat = new_tat WHERE r.key = p_key;
      EXIT;
    END IF;
    INSERT INTO ${s}.rates (key, tat) VALUES (p_key, new_tat) ON CONFLICT (key) DO NOTHING;
    EXIT WHEN FOUND;
  END LOOP;
  allowed := true;
  remaining := CASE WHEN delay > 0 THEN 0 ELSE greatest(0, p_burst - ceil((base - now_ms) / t)) END;
  slot_at := now_ms + delay;
END $f$;`;
}

/** $1 key, $2 limit, $3 per ms, $4 burst, $5 reserve ms: one decision (see {@link rateFunctionsSql}). */
export const rateLimitSql = (s: string) =>
  `SELECT r.* FROM "${s}".rate_limit($1::text, $2::int, $3::float8, $4::int, $5::float8) r`;

/**
 * Forgets up to 1000 keys whose `tat` has passed, skipping rows a decision holds. Such a row
 * decides exactly as no row does (`base = max(tat, now) = now`), so forgetting it changes no
 * decision; a decision that comes after finds no row and inserts one. A decision waiting on a row
 * this deletes finds no row when the lock is given, and inserts.
 */
export const ratePruneSql = (s: string) => `WITH d AS (DELETE FROM "${s}".rates WHERE key IN (
  SELECT key FROM "${s}".rates WHERE tat < extract(epoch FROM clock_timestamp()) * 1000
  LIMIT 1000 FOR UPDATE SKIP LOCKED) RETURNING 1)
SELECT count(*) AS pruned FROM d`;
