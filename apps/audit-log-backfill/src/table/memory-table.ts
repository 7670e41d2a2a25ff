import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditRow } from '../workload.js';
import { type AuditTable, UniqueViolationError } from './table.js';

/**
 * The audit table in this process's memory, for the embedded demo. Each call waits `latencyMs`
 * before it acts, like a round trip, so concurrent jobs interleave as they would against a
 * database: a select sees the rows as they are when it lands, and an insert is checked
 * against the reprs present when it lands.
 */
export function memoryTable(latencyMs = 1): AuditTable {
  const rows: AuditRow[] = []; // in id order: ids only grow
  const reprs = new Map<number, string>();
  let scanFrom = 0; // rows before this index all have a repr: keeps `missing` cheap
  const roundTrip = () => sleep(latencyMs);

  return {
    kind: 'memory',
    async reset() {
      await roundTrip();
      rows.length = 0;
      reprs.clear();
      scanFrom = 0;
    },
    async append(batch) {
      await roundTrip();
      rows.push(...batch.map((r) => ({ ...r })));
    },
    async missing(limit) {
      await roundTrip();
      while (scanFrom < rows.length && reprs.has(rows[scanFrom]!.id)) scanFrom++;
      const found: AuditRow[] = [];
      for (let i = scanFrom; i < rows.length && found.length < limit; i++)
        if (!reprs.has(rows[i]!.id)) found.push({ ...rows[i]! });
      return found;
    },
    async fill(batch) {
      await roundTrip();
      // Checked before any write: one statement, all or nothing.
      const seen = new Set<number>();
      for (const { id } of batch) {
        if (reprs.has(id) || seen.has(id)) throw new UniqueViolationError(id);
        seen.add(id);
      }
      for (const { id, repr } of batch) reprs.set(id, repr);
    },
    async counts() {
      await roundTrip();
      return { rows: rows.length, filled: reprs.size };
    },
    async close() {},
  };
}
