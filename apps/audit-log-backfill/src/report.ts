import type { ArmResult, Headline } from './metrics.js';
import type { ArmName, BackfillOptions } from './options.js';

type Results = Partial<Record<ArmName, ArmResult>>;

const rows: Array<[string, (r: ArmResult) => string | number]> = [
  ['rows filled', (r) => `${r.rowsFilled} / ${r.rows}`],
  ['duplicate work (rows)', (r) => r.duplicateWork],
  ['errors (failed jobs)', (r) => r.errors],
  ['jobs enqueued', (r) => r.jobsEnqueued],
  ['peak queued', (r) => r.peakQueued],
  ['time to drain (ms)', (r) => r.drainMs ?? 'never'],
  ['wasted row renders', (r) => r.wastedRenders],
  ['jobs run (empty)', (r) => `${r.jobsRun} (${r.emptyJobs})`],
  ['busy retries', (r) => r.busyRetries],
  ['triggers (skipped)', (r) => `${r.triggers} (${r.skippedTriggers})`],
];

/** The side-by-side table printed before the JSON line. */
export function formatTable(o: BackfillOptions, total: number, results: Results): string {
  const arms = o.arms.filter((a) => results[a]);
  const cells = rows.map(([label, get]) => [label, ...arms.map((a) => String(get(results[a]!)))]);
  const header = ['', ...arms];
  const widths = header.map((_, i) => Math.max(...[header, ...cells].map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ');
  const first = arms.map((a) => results[a]?.firstError).find((e) => e !== undefined);
  return [
    `audit-log-backfill: ${total} rows (${o.backlog} waiting, ${o.arrivals} arriving over ${o.arrivalMs} ms),` +
      ` batches of ${o.batch}, trigger every ${o.triggerMs} ms, ${o.workers} workers,` +
      ` table: ${o.store}, queue: ${o.queue}`,
    '',
    line(header),
    ...cells.map(line),
    ...(first ? ['', `first error: ${first}`] : []),
  ].join('\n');
}

/** The last line: one JSON object with the keys for each arm that ran. */
export function formatJson(results: Results): string {
  const pick = (r: ArmResult): Headline => ({
    rowsFilled: r.rowsFilled,
    duplicateWork: r.duplicateWork,
    errors: r.errors,
    jobsEnqueued: r.jobsEnqueued,
    peakQueued: r.peakQueued,
    drainMs: r.drainMs,
  });
  return JSON.stringify(Object.fromEntries(Object.entries(results).map(([arm, r]) => [arm, pick(r)])));
}
