#!/usr/bin/env node
import { InvalidArgumentError } from '@oncelock/core';
import { arms } from './config.js';
import { parseOptions, type RunOptions, usage } from './options.js';
import { formatJson, formatTable, type Results } from './report.js';
import { runArm } from './run-arm.js';

// The sample: the same flood of tenants' jobs through real BullMQ worker processes, first with
// only the workers' concurrency, then under a limit per tenant; a table, then one JSON line last.

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(usage);
    return 0;
  }
  let o: RunOptions;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    console.error(`${error.message}\n${usage}`);
    return 2;
  }
  const results: Partial<Results> = {};
  // One after the other, so that one arm cannot slow the other.
  for (const arm of arms) results[arm] = await runArm(arm, o);
  const all = results as Results;
  if (!o.quiet) console.log(`${formatTable(o, all)}\n`);
  console.log(formatJson(o, all));
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
