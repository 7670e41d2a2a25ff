#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@oncelock/core';
import { stopAllWorkers } from '@oncelock/testkit/faults';
import { runLab } from './lab.js';
import { ciRuns, type LabOptions, parseOptions, usage } from './options.js';
import { formatReport, formatTable, verdict } from './report.js';

const defaultOut = fileURLToPath(new URL('../out/', import.meta.url));

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(usage);
    return 0;
  }
  let o: LabOptions;
  try {
    o = parseOptions(process.argv.slice(2), defaultOut);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    console.error(error.message);
    return 2;
  }
  const results = await runLab(o, o.ci ? ciRuns : undefined, (r) => {
    if (!o.quiet) console.log(`${r.backend} ${r.scenario}: ${verdict(r)}`);
  });
  writeFileSync(join(o.out, 'report.md'), formatReport(results, o.ttl));
  writeFileSync(join(o.out, 'report.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (!o.quiet)
    console.log(`\n${formatTable(results)}\n\nreport: ${relative(process.cwd(), join(o.out, 'report.md'))}`);
  const failed = results.filter((r) => r.fenced && !r.clean);
  console.log(
    `${results.length} runs, ${failed.length} fenced runs with a stale write accepted out of order`,
  );
  return failed.length === 0 ? 0 : 1;
}

// Exit explicitly once everything is written. Node 20 sometimes never finishes its own teardown
// after this many killed children and reset sockets: it spins in Environment::CleanupHandles on
// two child stdio pipes that are already destroyed (seen in about one full run in three).
main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await stopAllWorkers();
    process.exit(1);
  },
);
