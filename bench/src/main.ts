/**
 * `pnpm bench` (full; writes bench/results/) and `pnpm bench:quick` (CI; writes bench/results/tmp/).
 * Options: --quick, --only=suite,suite, --out=dir, --render (judge the targets and write the report and charts again
 * from the results.json in the output folder, measuring nothing), and --merge (with --only: keep the
 * other suites of the results.json in the output folder, so that one suite can be measured again alone).
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresUrl } from '@oncelock/testkit/servers';
import type { Context } from './context.js';
import { describeRun } from './meta.js';
import { profiles } from './profile.js';
import { evaluateTargets } from './report/targets.js';
import type { SuiteResult } from './report/types.js';
import { readResults, writeResults } from './report/write.js';
import { startBenchRedis } from './stores.js';
import { suites } from './suites/index.js';

function option(name: string): string | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(name.length + 3);
}

const profile = profiles[process.argv.includes('--quick') ? 'quick' : 'full'];
const only = option('only')?.split(',');
const results = fileURLToPath(new URL('../results/', import.meta.url));
const out = option('out') ?? (profile.name === 'full' ? results : join(results, 'tmp'));

if (process.argv.includes('--render')) {
  // The targets are judged again: a target added since the run is judged on its figures.
  const kept = readResults(out);
  writeResults(out, { ...kept, targets: evaluateTargets(kept.suites) });
  console.log(`rendered ${out}`);
  process.exit(0);
}

// Said beside figures measured alone: a shared machine's load is what makes them noisy.
const load = loadavg()[0]?.toFixed(1);
const redis = await startBenchRedis();
const log = (line: string) => console.log(line);
// The shared PostgreSQL of the test setup: the bench only takes advisory locks in it.
const ctx: Context = { profile, redis, postgresUrl, log };
try {
  const meta = await describeRun(ctx);
  log(
    `oncelock bench (${profile.name}) on ${meta.cpu}, Node ${meta.node}, Redis ${meta.redis}, PostgreSQL ${meta.postgres}`,
  );
  const done: SuiteResult[] = [];
  for (const suite of suites) {
    if (only && !only.includes(suite.id)) continue;
    const began = performance.now();
    log(`${suite.id}…`);
    await redis.admin.flushall();
    done.push(await suite.run(ctx));
    log(`${suite.id}: ${((performance.now() - began) / 1000).toFixed(1)} s`);
  }
  const kept =
    process.argv.includes('--merge') && existsSync(join(out, 'results.json')) ? readResults(out) : undefined;
  // A suite measured again alone says so: the run description at the top is the earlier run's.
  const merged = kept
    ? [
        ...kept.suites.filter((s) => !done.some((d) => d.id === s.id)),
        ...done.map((s) => ({
          ...s,
          notes: [
            ...s.notes,
            `Measured alone on ${meta.date.slice(0, 10)} at commit ${meta.commit}, the machine's load average ${load} at the start.`,
          ],
        })),
      ].sort((a, b) => suites.findIndex((s) => s.id === a.id) - suites.findIndex((s) => s.id === b.id))
    : done;
  const targets = evaluateTargets(merged);
  writeResults(out, { meta: kept?.meta ?? meta, targets, suites: merged });
  log(`wrote ${out}`);
  for (const t of targets) log(`  ${t.met === null ? '·' : t.met ? '✓' : '✗'} ${t.target}: ${t.measured}`);
} finally {
  await redis.stop();
}
