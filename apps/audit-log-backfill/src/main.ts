#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@oncelock/core';
import { runBackfill } from './backfill.js';
import { renderChart } from './chart.js';
import { type BackfillOptions, parseOptions, usage } from './options.js';
import { formatJson, formatTable } from './report.js';

// The demo: both arms on one generated workload, a table, an SVG chart, and one JSON line last.
const defaultOut = fileURLToPath(new URL('../out/', import.meta.url));

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(usage);
    return 0;
  }
  let o: BackfillOptions;
  try {
    o = parseOptions(process.argv.slice(2), defaultOut);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    console.error(error.message);
    return 2;
  }
  const { workload, results } = await runBackfill(o);
  const chart = join(o.out, 'audit-log-backfill.svg');
  mkdirSync(o.out, { recursive: true });
  writeFileSync(
    chart,
    renderChart(
      results,
      `${workload.total} rows, batch ${o.batch}, trigger every ${o.triggerMs} ms, ${o.workers} workers, table: ${o.store}, queue: ${o.queue}`,
    ),
  );
  if (!o.quiet)
    console.log(`${formatTable(o, workload.total, results)}\n\nchart: ${relative(process.cwd(), chart)}\n`);
  console.log(formatJson(results));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
