import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunDescription } from '../meta.js';
import { renderReport } from './render.js';
import { barChart } from './svg.js';
import type { TargetResult } from './targets.js';
import type { SuiteResult } from './types.js';

/** Everything a run measured: results.json holds exactly this. */
export interface Results {
  readonly meta: RunDescription;
  readonly targets: readonly TargetResult[];
  readonly suites: readonly SuiteResult[];
}

/** Writes results.json, results.md and the charts into `out`, replacing the charts there. */
export function writeResults(out: string, r: Results): void {
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(out)) if (f.endsWith('.svg')) rmSync(join(out, f));
  for (const chart of r.suites.flatMap((s) => s.charts))
    writeFileSync(join(out, chart.file), barChart(chart));
  writeFileSync(join(out, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(out, 'results.md'), renderReport(r.meta, r.targets, r.suites));
}

/** Reads a run's results.json back, to render its report again without measuring again. */
export function readResults(out: string): Results {
  return JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
}
