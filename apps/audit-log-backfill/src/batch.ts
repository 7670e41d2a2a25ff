import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditTable } from './table/table.js';
import { renderRepr } from './workload.js';

export interface BatchSettings {
  batch: number;
  rowCostMs: number;
}

/**
 * The job itself, the same in both arms: select up to `batch` rows without a repr, render them
 * (the slow part, a lookup per row in a real app), and insert every repr in one statement.
 * `rendered` is told which rows were worked on before the insert, so work that a failed
 * insert throws away still counts.
 */
export async function backfillBatch(
  table: AuditTable,
  s: BatchSettings,
  rendered: (ids: number[]) => void,
): Promise<{ filled: number; full: boolean }> {
  const rows = await table.missing(s.batch);
  if (rows.length === 0) return { filled: 0, full: false };
  const reprs = rows.map((row) => ({ id: row.id, repr: renderRepr(row) }));
  if (s.rowCostMs > 0) await sleep(s.rowCostMs * rows.length);
  rendered(rows.map((r) => r.id));
  await table.fill(reprs);
  return { filled: rows.length, full: rows.length === s.batch };
}
