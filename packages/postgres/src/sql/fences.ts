// Fences without a WAL flush per grant (schema version 4).
//
// Fences still come from the one logged sequence `fence`. Its own WAL is written ahead of use but
// flushed only by some later commit that waits for the flush, so after a crash the sequence can
// come back below fences it had handed out. Until version 3 every statement that handed out a new
// fence therefore waited for its commit to be flushed.
//
// Since version 4 a fence is handed out only below a durable ceiling (`fence_ceiling`), raised a
// block at a time by a commit that does wait for the flush. Any fence a client has seen is below
// the ceiling as it stood when that fence was taken, and that ceiling was on disk before the
// fence was visible (a synchronous commit is visible only once flushed). After a crash the
// sequence is moved up to the ceiling before the next fence, so every later fence is greater.
//
// A crash is told by `fence_live`, an unlogged table of one row: recovery from a crash (or an
// immediate shutdown, or a standby's promotion) empties every unlogged table, a clean restart
// does not. No row: the sequence may have gone back, and nothing is handed out until
// `fence_advance` has moved it past the ceiling and put the row back, in one flushed commit.
//
// Advisory mode, whose every grant ends with the server anyway, commits its grants without the
// flush. Table mode's rows outlive a restart, so its grants still wait for it.
//
// Raising the ceiling holds its row lock until the commit. Statements that may wait for row locks
// after taking a fence (the plain acquires) therefore never raise it themselves: they draw with
// {@link fenceTry}, and on NULL the backend runs `fence_advance` alone and asks again.

/** Fences per raise of the ceiling: one flushed commit per this many fences, and at most twice this skipped after a crash. */
export const FENCE_BLOCK = 4096;

/**
 * Draws the next number of the sequence: the fence if it is below the ceiling, NULL at the
 * ceiling, and no row at all while the crash marker is gone (a number drawn then is skipped).
 * Written into each statement that draws, not called as an SQL function: a statement keeps its
 * plan, a call of an SQL function plans its body every time (0.1 ms).
 */
const draw = (s: string) =>
  `SELECT CASE WHEN n.v < c.ceiling THEN n.v END FROM (SELECT nextval('${s}.fence') AS v) n, ${s}.fence_ceiling c, ${s}.fence_live`;

/** The migration's part for fences: the ceiling, the crash marker and their functions. */
export function fencesSql(schema: string): string {
  const s = `"${schema}"`;
  return `CREATE TABLE IF NOT EXISTS ${s}.fence_ceiling (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  ceiling bigint NOT NULL
);
INSERT INTO ${s}.fence_ceiling (ceiling) VALUES (0) ON CONFLICT (one) DO NOTHING;
CREATE UNLOGGED TABLE IF NOT EXISTS ${s}.fence_live (one boolean PRIMARY KEY DEFAULT true CHECK (one));
CREATE OR REPLACE FUNCTION ${s}.fence_advance() RETURNS void
LANGUAGE plpgsql AS $f$
DECLARE c bigint; v bigint;
BEGIN
  -- This commit must be on disk before anyone sees the new ceiling.
  PERFORM set_config('synchronous_commit', 'on', true);
  -- One advance at a time: a second one waits here for the first one's commit, then finds room.
  SELECT ceiling INTO c FROM ${s}.fence_ceiling FOR UPDATE;
  SELECT last_value INTO v FROM ${s}.fence;
  IF NOT EXISTS (SELECT 1 FROM ${s}.fence_live) THEN
    -- After a crash: no fence handed out before it reached the ceiling.
    IF v < c THEN
      PERFORM setval('${s}.fence', c);
      v := c;
    END IF;
    INSERT INTO ${s}.fence_live DEFAULT VALUES ON CONFLICT (one) DO NOTHING;
  END IF;
  IF v + ${FENCE_BLOCK / 4} > c THEN
    UPDATE ${s}.fence_ceiling SET ceiling = v + ${FENCE_BLOCK};
  END IF;
END $f$;
CREATE OR REPLACE FUNCTION ${s}.fence_take() RETURNS bigint
LANGUAGE plpgsql AS $f$
DECLARE t bigint;
BEGIN
  LOOP
    ${draw(s)} INTO t;
    EXIT WHEN t IS NOT NULL;
    PERFORM ${s}.fence_advance();
  END LOOP;
  RETURN t;
END $f$;`;
}

/**
 * A new fence below the ceiling, or NULL, as an SQL expression: the caller must then run
 * {@link advanceFencesSql} in a transaction of its own and try again. For statements that may wait
 * for row locks after it: raising the ceiling there would hold the ceiling's row lock meanwhile,
 * and a permit acquire that holds such a row and wants the ceiling would deadlock with it.
 */
export const fenceTry = (s: string) => `(${draw(`"${s}"`)})`;

/**
 * A new fence, raising the ceiling in this transaction when it must (the commit then waits for
 * the flush). Only for code that waits for no lock after it: the permit functions, which take
 * the fence last, under the key's locks.
 */
export const fenceTake = (s: string) => `"${s}".fence_take()`;

/** Raises the ceiling (or recovers from a crash); run alone, in its own transaction. */
export const advanceFencesSql = (s: string) => `SELECT "${s}".fence_advance()`;
