import type { ArmName } from './config.js';
import { type RunOptions, tenantNames } from './options.js';
import type { ArmResult } from './run-arm.js';

export type Results = Record<ArmName, ArmResult>;

/** The side-by-side table printed before the JSON line. */
export function formatTable(o: RunOptions, results: Results): string {
  const tenants = tenantNames(o);
  const { withoutLimit: a, withLimit: b } = results;
  const perTenant = (pick: (r: ArmResult) => Record<string, number | null>) =>
    tenants.map((t) => [`  ${t}`, String(pick(a)[t] ?? 'never'), String(pick(b)[t] ?? 'never')]);
  const rows = [
    ['', 'without limit', `with limit ${o.limit}`],
    ['most jobs of a tenant running at once', '', ''],
    ...perTenant((r) => r.mostAtOnce),
    ['first job of a tenant started after (ms)', '', ''],
    ...perTenant((r) => r.firstStartMs),
    ['jobs run (failed)', `${a.jobsRun} (${a.failed})`, `${b.jobsRun} (${b.failed})`],
    ['put back over the limit', String(a.putBacks), String(b.putBacks)],
    ['took (ms)', String(a.tookMs), String(b.tookMs)],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('   ')
      .trimEnd();
  const failure = a.firstFailure ?? b.firstFailure;
  return [
    `tenant-limits: ${o.tenants} tenants x ${o.jobs} jobs of ${o.jobMs} ms, added tenant after tenant;` +
      ` ${o.workers} worker processes x concurrency ${o.concurrency} (${o.workers * o.concurrency} slots);` +
      ` permits on ${o.store}`,
    '',
    ...rows.map(line),
    ...(failure ? ['', `first failure: ${failure}`] : []),
  ].join('\n');
}

/** The last line: one JSON object, the limit and each arm's figures. */
export function formatJson(o: RunOptions, results: Results): string {
  const pick = ({ firstFailure: _, ...figures }: ArmResult) => figures;
  return JSON.stringify({
    limit: o.limit,
    withoutLimit: pick(results.withoutLimit),
    withLimit: pick(results.withLimit),
  });
}
