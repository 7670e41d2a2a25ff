// The long torture, on demand:
//   pnpm --filter @oncelock/reliability soak                  every backend, 8 workers x 2,000 sections
//   pnpm --filter @oncelock/reliability soak -- redis keyv    some of them
//   pnpm --filter @oncelock/reliability soak -- --ci redis    the CI size, for a quick look
// Each run's report is written to results/<backend>-<size>.json (the figures in RELIABILITY.md
// come from these files) and summed up on stdout. Exits 1 if a run broke a promise.
import { mkdirSync, writeFileSync } from 'node:fs';
import { stopAllWorkers } from '@oncelock/testkit/faults';
import { controlKinds, type LabKind, labKinds } from './labs/index.js';
import { summary } from './summary.js';
import { ciOptions, soakOptions, torture, verdict } from './torture.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const size = args.includes('--ci') ? 'ci' : 'soak';
const asked = args.filter((a) => !a.startsWith('--'));
const known: readonly string[] = [...labKinds, ...controlKinds];
const unknown = asked.filter((a) => !known.includes(a));
if (unknown.length > 0) {
  console.error(`unknown backend(s) ${unknown.join(', ')}; choose from ${known.join(', ')}`);
  process.exit(2);
}
const labs = (asked.length > 0 ? asked : labKinds) as LabKind[];
const results = new URL('../results/', import.meta.url);
mkdirSync(results, { recursive: true });

let failed = false;
for (const lab of labs) {
  const options = size === 'ci' ? ciOptions(lab) : soakOptions(lab);
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
    new URL(`${lab}-${size}.json`, results),
    `${JSON.stringify({ ...stored, at: new Date().toISOString() }, null, 2)}\n`,
  );
  console.log(
    summary(report),
    ok ? '' : `\n  PROBLEMS: ${problems.join('; ')}\n  history kept in ${report.kept}`,
  );
}
await stopAllWorkers();
process.exit(failed ? 1 : 0);
