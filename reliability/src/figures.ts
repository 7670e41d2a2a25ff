// Prints the figures of the runs in results/ as Markdown tables, for RELIABILITY.md:
//   node dist/figures.js
import { readdirSync, readFileSync } from 'node:fs';
import { faultCount } from './summary.js';
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

for (const size of ['soak', 'ci'] as const) {
  const rows = runs.filter((r) => (r.options.sections >= 1000 ? 'soak' : 'ci') === size);
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
  console.log(`\n${size === 'soak' ? 'Soak' : 'CI size'}: ${describe(rows[0]!)}, ${schedules}\n`);
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const f = r.findings;
    const cells = [
      r.lab,
      `${r.options.workers} x ${r.options.sections}`,
      r.tally.sections,
      r.processes,
      `${faultCount(r)} (${Object.entries(r.faults)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')})`,
      f.writes.rejected,
      `${f.unanswered.total} (${f.unanswered.applied})`,
      f.lateHolds,
      f.writeOverlaps,
      r.guarantees.fencing ? f.fenceRegressions : 'no fences',
      f.lostUpdates,
      f.stuckKeys.length,
      r.crashes.length,
      r.at.slice(0, 16).replace('T', ' '),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

function describe(r: Saved): string {
  const o = r.options;
  return `${o.workers} worker processes x ${o.sections} critical sections on ${o.keys} keys, TTL ${o.ttl} ms`;
}

function schedule(r: Saved): string {
  const o = r.options;
  const unit = o.faultUnit === 'sections' ? 'completed sections' : 'ms';
  return `a fault every ${o.faultEvery[0]}-${o.faultEvery[1]} ${unit} (${o.order})`;
}
