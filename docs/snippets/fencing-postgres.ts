// Fencing in PostgreSQL: the protected row rejects a write whose fence is
// older than one it has seen.
// #region postgres
import { StaleFenceError } from '@oncelock/core';
import type pg from 'pg';

// One conditional UPDATE: it applies only if no newer fence has written
// this row.
//   CREATE TABLE reports (id text PRIMARY KEY, body text, fence bigint
//   NOT NULL DEFAULT 0);
export async function saveReport(
  db: pg.Pool,
  id: string,
  body: string,
  fence: number,
): Promise<void> {
  const r = await db.query(
    `UPDATE reports SET body = $2, fence = $3
     WHERE id = $1 AND fence <= $3`,
    [id, body, fence],
  );
  if (r.rowCount === 0)
    throw new StaleFenceError(`reports/${id}`, fence, undefined);
}
// #endregion postgres
