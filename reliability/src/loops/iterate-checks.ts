import type { IterationProgress } from '@oncelock/core';
import type pg from 'pg';
import type { RowCursor } from './iterate-tables.js';

/** What the tables of one walk say. */
export interface IterateChecks {
  /** Step runs whose cursor save committed: a later step began from their cursor, or it is the last saved. */
  committed: number;
  /** Step runs that committed their rows but not their cursor (killed in between): their chunk ran again. */
  redone: { runs: number; rows: number };
  /** Rows never processed. */
  missing: number;
  /** Rows processed by two runs whose cursors were both saved: must be 0. */
  twiceInCommitted: number;
  /** Rows that no run with a saved cursor processed. */
  uncovered: number;
  /** Saved runs that did not begin where the saved run before them ended. */
  chainBreaks: number;
  /** Unsaved runs that did not begin from a saved cursor. */
  strays: number;
  /** The saved progress: rows and chunks counted by `ctx.processed()` and the saves. */
  progress: { rows: number; chunks: number; caughtUp: boolean } | null;
  problems: string[];
}

interface Run {
  run: string;
  after: number;
  last: number;
  parent: string | null;
  n: number;
}

/**
 * Reads a walk's tables. A step's rows and its run record commit in one transaction; its cursor
 * is saved afterwards in the lock store, and names the run. So the runs whose save committed are
 * exactly those some later run names as its parent, and the one the final saved cursor names.
 * They must form one chain from the start (each beginning where the one before ended), cover
 * every row once and only once; the other runs (killed after their commit, before their save)
 * must each have begun from a saved cursor.
 */
export async function iterateChecks(
  client: pg.Client,
  schema: string,
  rows: number,
  progress: IterationProgress<RowCursor> | null,
): Promise<IterateChecks> {
  const t = `"${schema}"`;
  const runs = (await client.query<Run>(`SELECT run, after, last, parent, n FROM ${t}.runs`)).rows;
  const saved = new Set(runs.flatMap((r) => (r.parent ? [r.parent] : [])));
  if (progress?.cursor.by) saved.add(progress.cursor.by);
  const committed = runs.filter((r) => saved.has(r.run)).sort((a, b) => a.after - b.after);
  const redone = runs.filter((r) => !saved.has(r.run));
  let chainBreaks = 0;
  committed.forEach((r, i) => {
    const before = committed[i - 1];
    if (r.after !== (before?.last ?? 0) || r.parent !== (before?.run ?? null)) chainBreaks++;
  });
  const savedCursors = new Set([0, ...committed.map((r) => r.last)]);
  const strays = redone.filter((r) => !savedCursors.has(r.after)).length;
  const names = [...saved];
  const one = async (sql: string, values: unknown[] = []) =>
    Number((await client.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);
  const missing = await one(
    `SELECT count(*) AS n FROM ${t}.rows r WHERE NOT EXISTS (SELECT 1 FROM ${t}.marks m WHERE m.row_id = r.id)`,
  );
  const twiceInCommitted = await one(
    `SELECT count(*) AS n FROM (SELECT row_id FROM ${t}.marks WHERE run = ANY($1) GROUP BY row_id HAVING count(*) > 1) d`,
    [names],
  );
  const uncovered = await one(
    `SELECT count(*) AS n FROM ${t}.rows r WHERE NOT EXISTS (SELECT 1 FROM ${t}.marks m WHERE m.row_id = r.id AND m.run = ANY($1))`,
    [names],
  );
  const p = progress && { rows: progress.rows, chunks: progress.chunks, caughtUp: progress.caughtUp };
  const problems: string[] = [];
  if (missing > 0) problems.push(`${missing} row(s) never processed`);
  if (twiceInCommitted > 0) problems.push(`${twiceInCommitted} row(s) processed twice within saved chunks`);
  if (uncovered > 0) problems.push(`${uncovered} row(s) in no saved chunk`);
  if (chainBreaks > 0)
    problems.push(`${chainBreaks} saved chunk(s) not beginning where the last saved one ended`);
  if (strays > 0) problems.push(`${strays} chunk(s) begun from a cursor that was never saved`);
  if (!p?.caughtUp) problems.push('the walk never caught up');
  if (p && (p.rows !== rows || p.chunks !== committed.length))
    problems.push(
      `progress says ${p.rows} rows in ${p.chunks} chunks; the tables ${rows} in ${committed.length}`,
    );
  return {
    committed: committed.length,
    redone: { runs: redone.length, rows: redone.reduce((n, r) => n + r.n, 0) },
    missing,
    twiceInCommitted,
    uncovered,
    chainBreaks,
    strays,
    progress: p,
    problems,
  };
}
