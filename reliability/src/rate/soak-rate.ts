// The soak runner's --rate: the rate accuracy run and its torture on each store, saved in
// results/rate/<store>-<plain|torture>-<size>.json, and the picture run for the Rate limits page
// (results/rate/picture-redis.json, with the times docs/scripts/rate-picture.mjs draws).
import { mkdirSync, writeFileSync } from 'node:fs';
import type { LoopLabKind } from '../loops/lab.js';
import { type RateRunReport, rateRun } from './run.js';
import { pictureOptions, rateOptions } from './sizes.js';

const results = new URL('../../results/rate/', import.meta.url);

function save(name: string, report: RateRunReport): void {
  mkdirSync(results, { recursive: true });
  writeFileSync(
    new URL(`${name}.json`, results),
    `${JSON.stringify({ ...report, at: new Date().toISOString() })}\n`,
  );
}

const line = (name: string, r: RateRunReport) =>
  `${name}: ${r.asks} asks, ${r.fleet.starts} starts, worst window ${r.fleet.worst} (limit + burst ${r.options.limit + r.options.burst}), ${r.fleet.violations} over, ${(r.fleet.achieved * 100).toFixed(1)}% of the rate; per-worker limiters: worst window ${r.perWorker.worst}; faults ${r.faults.kill} kills, ${r.faults.cut} cuts; ${r.crashes} crashes`;

/** Runs and saves each store's plain and torture runs; true if none broke the rate. */
export async function soakRate(size: 'ci' | 'soak', labs: readonly LoopLabKind[]): Promise<boolean> {
  let ok = true;
  for (const lab of labs) {
    for (const faults of [false, true]) {
      const name = `${lab}-${faults ? 'torture' : 'plain'}-${size}`;
      const r = await rateRun(rateOptions(lab, size, faults, faults ? 7 : 1));
      save(name, r);
      console.log(line(name, r));
      ok &&= r.fleet.violations === 0 && r.crashes === 0 && (faults || r.fleet.achieved >= 0.95);
    }
  }
  if (labs.includes('redis')) {
    const r = await rateRun(pictureOptions, true);
    save('picture-redis', r);
    console.log(line('picture-redis', r));
  }
  return ok;
}
