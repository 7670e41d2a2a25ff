// What the iterate torture's parent and its workers share (the worker module runs its loop on import).

/** The cursor: the last id done, and the run that did it (null at the start). */
export interface RowCursor {
  after: number;
  by: string | null;
}

/** The tables of a run: `rows` to walk, a mark per row per processing, a row per step run. */
export function iterateTablesSql(schema: string, rows: number): string {
  const t = `"${schema}"`;
  return `DROP TABLE IF EXISTS ${t}.rows, ${t}.marks, ${t}.runs;
    CREATE TABLE ${t}.rows (id int PRIMARY KEY);
    INSERT INTO ${t}.rows SELECT generate_series(1, ${rows});
    CREATE TABLE ${t}.marks (row_id int NOT NULL, run text NOT NULL);
    CREATE TABLE ${t}.runs (run text PRIMARY KEY, worker text NOT NULL, after int NOT NULL,
      last int NOT NULL, parent text, n int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());`;
}
