// The long torture, on demand:
//   pnpm --filter @oncelock/reliability soak                  every backend, 8 workers x 2,000 sections
//   pnpm --filter @oncelock/reliability soak -- redis keyv    some of them
//   pnpm --filter @oncelock/reliability soak -- --ci redis    the CI size, for a quick look
//   pnpm --filter @oncelock/reliability soak -- --limits      the permits torture (limit 3), Redis and PostgreSQL
//   pnpm --filter @oncelock/reliability soak -- --rate        the rate accuracy run and its torture, Redis and PostgreSQL
//   pnpm --filter @oncelock/reliability soak -- --loops       the singleton and iterate tortures, Redis and PostgreSQL
// Each run's report is written to results/<backend>-<size>.json, or results/<backend>-limits-<size>.json
// for the permits torture, or results/loops/<torture>-<store>-<size>.json for the loops (the figures
// in RELIABILITY.md come from these files), and summed up on stdout. Exits 1 if a run broke a promise.
import { mkdirSync, writeFileSync } from 'node:fs';
import { stopAllWorkers } from '@oncelock/testkit/faults';
import { controlKinds, type LabKind, labKinds } from './labs/index.js';
import { type LoopLabKind, loopLabKinds } from './loops/lab.js';
import { soakLoops } from './loops/soak-loops.js';
import { rateLabs } from './rate/sizes.js';
import { soakRate } from './rate/soak-rate.js';
import { summary } from './summary.js';
import {
  ciLimitOptions,
  ciOptions,
  limitLabs,
  soakLimitOptions,
  soakOptions,
  type TortureOptions,
  torture,
  verdict,
} from './torture.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const size = args.includes('--ci') ? 'ci' : 'soak';
const limits = args.includes('--limits');
const loops = args.includes('--loops');
const rate = args.includes('--rate');
const flags = ['--ci', '--limits', '--loops', '--rate'];
const badFlags = args.filter((a) => a.startsWith('--') && !flags.includes(a));
const asked = args.filter((a) => !a.startsWith('--'));
// The permits torture runs only where a lab has been checked with limits.
const known: readonly string[] = rate
  ? rateLabs
  : loops
    ? loopLabKinds
    : limits
      ? limitLabs
      : [...labKinds, ...controlKinds];
const unknown = asked.filter((a) => !known.includes(a));
if (badFlags.length > 0 || unknown.length > 0) {
  if (badFlags.length > 0)
    console.error(`unknown flag(s) ${badFlags.join(', ')}; choose from ${flags.join(', ')}`);
  if (unknown.length > 0)
    console.error(
      `unknown backend(s) ${unknown.join(', ')}${limits ? ' for --limits' : loops ? ' for --loops' : rate ? ' for --rate' : ''}; choose from ${known.join(', ')}`,
    );
  process.exit(2);
}
if (rate) {
  const ok = await soakRate(size, asked.length > 0 ? (asked as LoopLabKind[]) : rateLabs);
  await stopAllWorkers();
  process.exit(ok ? 0 : 1);
}
if (loops) {
  const ok = await soakLoops(size, (asked.length > 0 ? asked : loopLabKinds) as LoopLabKind[]);
  await stopAllWorkers();
  process.exit(ok ? 0 : 1);
}
const labs = (asked.length > 0 ? asked : limits ? limitLabs : labKinds) as LabKind[];
const optionsOf: Record<typeof size, (lab: LabKind) => TortureOptions> = limits
  ? { ci: ciLimitOptions, soak: soakLimitOptions }
  : { ci: ciOptions, soak: soakOptions };
const results = new URL('../results/', import.meta.url);
mkdirSync(results, { recursive: true });

let failed = false;
for (const lab of labs) {
  const options = optionsOf[size](lab);
  if (process.env.ONCELOCK_SEED) options.seed = Number(process.env.ONCELOCK_SEED);
  const report = await torture(options).catch((error: unknown) => {
    console.error(`${lab}: the run itself failed:`, error);
    return undefined;
  });
  if (!report) {
    failed = true;
    continue;
  }
  const { ok, problems } = verdict(report);
  failed ||= !ok;
  // Without `kept`: a path on this machine means nothing in the repository; it is printed below.
  const { kept: _kept, ...stored } = report;
  writeFileSync(
    new URL(`${lab}${limits ? '-limits' : ''}-${size}.json`, results),
    `${JSON.stringify({ ...stored, at: new Date().toISOString() }, null, 2)}\n`,
  );
  console.log(
    summary(report),
    ok ? '' : `\n  PROBLEMS: ${problems.join('; ')}\n  history kept in ${report.kept}`,
  );
}
await stopAllWorkers();
process.exit(failed ? 1 : 0);
