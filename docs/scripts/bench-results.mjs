// Brings the benchmark report (bench/results/results.md and its *.svg charts) into the site at
// build time. The bench package writes those files; the docs never invent numbers, so when
// they are absent the page says so instead.
//
// Output: .generated/bench-results.md (included by benchmarks.md) and public/bench/*.svg.

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { pathToFileURL } from 'node:url';
import { renderBenchPage } from './bench-report.mjs';

// BENCH_RESULTS_DIR points elsewhere, to try the page with a report before the bench has run.
const results = process.env.BENCH_RESULTS_DIR
  ? pathToFileURL(`${process.env.BENCH_RESULTS_DIR.replace(/\/$/, '')}/`)
  : new URL('../../bench/results/', import.meta.url);
const generated = new URL('../.generated/', import.meta.url);
const charts = new URL('../public/bench/', import.meta.url);

rmSync(charts, { recursive: true, force: true });
mkdirSync(charts, { recursive: true });
mkdirSync(generated, { recursive: true });

const svgs = existsSync(results)
  ? readdirSync(results)
      .filter((f) => f.endsWith('.svg'))
      .sort()
  : [];
for (const svg of svgs) copyFileSync(new URL(svg, results), new URL(svg, charts));
const reportFile = new URL('results.md', results);
const report = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : undefined;

writeFileSync(new URL('bench-results.md', generated), renderBenchPage(report, svgs));
console.log(`bench-results: report ${report === undefined ? 'absent' : 'present'}, ${svgs.length} chart(s)`);
