// Prints the figures of the runs in results/ as Markdown tables, for RELIABILITY.md:
//   node dist/figures.js
import { readdirSync, readFileSync } from 'node:fs';
import { loopTables } from './loops/figures.js';
import { faultCount, keys } from './summary.js';
import type { TortureReport } from './torture.js';

type Saved = TortureReport & { at: string };

const dir = new URL('../results/', import.meta.url);
const runs = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Saved);

const columns = [
  'backend',
  'size',
  'sections',
  'processes',
  'faults',
  'stale writes refused',
  'unanswered (applied)',
  'late holds',
  'write overlaps',
  'fence regressions',
  'lost updates',
  'stuck keys',
  'crashes',
  'run at (UTC)',
];

const sizeOf = (r: Saved) => (r.options.sections >= 1000 ? 'soak' : 'ci');
const isPermits = (r: Saved) => r.permits !== undefined;

for (const size of ['soak', 'ci'] as const) {
  const rows = runs.filter((r) => !isPermits(r) && sizeOf(r) === size);
  if (rows.length === 0) continue;
  // Runs from before the fault schedule changed may sit beside newer ones: say which had which.
  const labsBySchedule = new Map<string, string[]>();
  for (const r of rows) {
    const s = schedule(r);
    labsBySchedule.set(s, [...(labsBySchedule.get(s) ?? []), r.lab]);
  }
  const schedules = [...labsBySchedule]
    .map(([s, labs]) => (labsBySchedule.size === 1 ? s : `${s} for ${labs.join(', ')}`))
    .join('; ');
  console.log(`\n${title(size)}: ${describe(rows[0]!)}, ${schedules}\n`);
  table(
    columns,
    rows.map((r) => {
      const f = r.findings;
      return [
        r.lab,
        `${r.options.workers} x ${r.options.sections}`,
        r.tally.sections,
        r.processes,
        faultsCell(r),
        f.writes.rejected,
        `${f.unanswered.total} (${f.unanswered.applied})`,
        f.lateHolds,
        f.writeOverlaps,
        r.guarantees.fencing ? f.fenceRegressions : 'no fences',
        f.lostUpdates,
        f.stuckKeys.length,
        r.crashes.length,
        runAt(r),
      ];
    }),
  );
}

// The permits torture (`soak -- --limits`): its own table, with the permit checks.
const permitColumns = [
  'backend',
  'sections',
  'processes',
  'faults',
  'accepted writes',
  'refused as stale',
  'unanswered (applied)',
  'most at once',
  'over the limit',
  'killed permits free after (ms)',
  'fence regressions',
  'lost updates',
  'stuck keys',
  'crashes',
  'took (s)',
  'run at (UTC)',
];
for (const size of ['soak', 'ci'] as const) {
  const rows = runs.filter((r) => isPermits(r) && sizeOf(r) === size);
  if (rows.length === 0) continue;
  const o = rows[0]!.options;
  console.log(
    `\nPermits, ${title(size).toLowerCase()}: ${describe(rows[0]!)}, limit ${o.limit}, ${schedule(rows[0]!)}\n`,
  );
  table(
    permitColumns,
    rows.map((r) => {
      const f = r.findings;
      const p = r.permits!;
      const freed = p.freedAfterKill;
      return [
        r.lab,
        r.tally.sections,
        r.processes,
        faultsCell(r),
        f.writes.accepted,
        f.writes.rejected,
        `${f.unanswered.total} (${f.unanswered.applied})`,
        p.most,
        p.over.length,
        freed.length === 0
          ? 'none watched'
          : `${Math.min(...freed)}-${Math.max(...freed)} (${freed.length} watched)`,
        f.fenceRegressions,
        f.lostUpdates,
        f.stuckKeys.length,
        r.crashes.length,
        Math.round(r.durationMs / 1000),
        runAt(r),
      ];
    }),
  );
}

// The loop tortures (`soak -- --loops`), from results/loops/.
for (const { title, table: t } of loopTables()) {
  console.log(`\n${title}\n`);
  table(t.head, t.rows);
}

function table(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): void {
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map(() => '---').join('|')}|`);
  for (const cells of rows) console.log(`| ${cells.join(' | ')} |`);
}

function faultsCell(r: Saved): string {
  const kinds = Object.entries(r.faults).map(([k, n]) => `${k} ${n}`);
  return `${faultCount(r)} (${kinds.join(', ')})`;
}

function title(size: 'soak' | 'ci'): string {
  return size === 'soak' ? 'Soak' : 'CI size';
}

function runAt(r: Saved): string {
  return r.at.slice(0, 16).replace('T', ' ');
}

function describe(r: Saved): string {
  const o = r.options;
  return `${o.workers} worker processes x ${o.sections} critical sections on ${keys(o.keys)}, TTL ${o.ttl} ms`;
}

function schedule(r: Saved): string {
  const o = r.options;
  const unit = o.faultUnit === 'sections' ? 'completed sections' : 'ms';
  return `a fault every ${o.faultEvery[0]}-${o.faultEvery[1]} ${unit} (${o.order})`;
}
