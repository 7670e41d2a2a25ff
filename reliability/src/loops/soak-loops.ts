import { mkdirSync, writeFileSync } from 'node:fs';
import {
  ciIterateOptions,
  iterateSummary,
  iterateTorture,
  iterateVerdict,
  soakIterateOptions,
} from './iterate-torture.js';
import type { LoopLabKind } from './lab.js';
import {
  ciSingletonOptions,
  singletonSummary,
  singletonTorture,
  singletonVerdict,
  soakSingletonOptions,
} from './singleton-torture.js';

/** Where the loop tortures' reports go: results/loops/<torture>-<store>-<size>.json. */
export const loopResults = new URL('../../results/loops/', import.meta.url);

/**
 * The soak runner's `--loops`: the singleton torture and the iterate torture on each store, at
 * `size`. Each report is saved (figures.js prints them); resolves `false` if a run broke a promise.
 * The soak judges the killed walk's time too (1.2x the uninterrupted + a TTL per kill).
 */
export async function soakLoops(size: 'ci' | 'soak', labs: readonly LoopLabKind[]): Promise<boolean> {
  mkdirSync(loopResults, { recursive: true });
  let ok = true;
  const save = (name: string, report: object) =>
    writeFileSync(
      new URL(`${name}-${size}.json`, loopResults),
      `${JSON.stringify({ ...report, kept: undefined, at: new Date().toISOString() }, null, 2)}\n`,
    );
  const seed = process.env.ONCELOCK_SEED ? { seed: Number(process.env.ONCELOCK_SEED) } : {};
  for (const lab of labs) {
    const s = await singletonTorture({
      ...(size === 'ci' ? ciSingletonOptions(lab) : soakSingletonOptions(lab)),
      ...seed,
    });
    const sv = singletonVerdict(s);
    save(`singleton-${lab}`, s);
    console.log(
      singletonSummary(s),
      sv.ok ? '' : `\n  PROBLEMS: ${sv.problems.join('; ')}\n  kept in ${s.kept}`,
    );
    const i = await iterateTorture({
      ...(size === 'ci' ? ciIterateOptions(lab) : soakIterateOptions(lab)),
      ...seed,
    });
    const iv = iterateVerdict(i, size === 'soak');
    save(`iterate-${lab}`, i);
    console.log(iterateSummary(i), iv.ok ? '' : `\n  PROBLEMS: ${iv.problems.join('; ')}`);
    ok &&= sv.ok && iv.ok;
  }
  return ok;
}
