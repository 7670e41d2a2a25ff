// Fencing: the protected store rejects a write whose fence is older than
// one it has seen.
import {
  FencedResource,
  type LockBackend,
  lease,
  StaleFenceError,
} from '@oncelock/core';
import type pg from 'pg';

// #region in-process
export async function fencedWrites(
  backend: LockBackend,
): Promise<string[]> {
  const report = new FencedResource<string>('daily-report');
  const log: string[] = [];

  const first = await lease(backend, 'report', {
    ttl: 1_000,
    autoExtend: false,
  });
  // stands in for "first paused until its lease expired"
  await first.release();
  const second = await lease(backend, 'report', { ttl: 1_000 });

  report.write(second.fence, 'written by the current holder');
  try {
    // older fence
    report.write(first.fence, 'late write from the old holder');
  } catch (error) {
    if (error instanceof StaleFenceError)
      log.push(
        `rejected fence ${error.fence}, store has ${error.latest}`,
      );
  }
  await second.release();
  log.push(`value: ${report.value}`);
  return log;
}
// #endregion in-process

// #region postgres
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
