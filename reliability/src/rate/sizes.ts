import type { LoopLabKind } from '../loops/lab.js';
import type { RateRunOptions } from './run.js';

/** The stores that serve rate limits to a fleet. */
export const rateLabs = ['redis', 'postgres'] as const satisfies readonly LoopLabKind[];

const LIMIT = 100;
const PROCESSES = 8;

/**
 * The accuracy run: 8 processes ask for one key at three times its rate (100 a second, burst 10),
 * for 10 s at soak size and 3 s at CI size; with `faults`, a process is SIGKILLed or has its
 * connections cut about every 400 ms.
 */
export function rateOptions(
  lab: LoopLabKind,
  size: 'ci' | 'soak',
  faults: boolean,
  seed = 1,
): RateRunOptions {
  const seconds = size === 'soak' ? 10 : 3;
  return {
    lab,
    processes: PROCESSES,
    limit: LIMIT,
    per: 1_000,
    burst: 10,
    reserve: 0,
    phases: [{ until: seconds * 1_000, perSecond: (3 * LIMIT) / PROCESSES }],
    faultEveryMs: faults ? 400 : 0,
    seed,
  };
}

/**
 * The run the Rate limits page draws: 4 processes, 10 starts a second, each request waiting up
 * to 500 ms for a slot; each process asks 1.5 times a second for 1 s, then 15 times (the fleet
 * six times the rate) for 2 s, then 1.5 times again.
 */
export const pictureOptions: RateRunOptions = {
  lab: 'redis',
  processes: 4,
  limit: 10,
  per: 1_000,
  burst: 0,
  reserve: 500,
  phases: [
    { until: 1_000, perSecond: 1.5 },
    { until: 3_000, perSecond: 15 },
    { until: 4_000, perSecond: 1.5 },
  ],
  faultEveryMs: 0,
  seed: 5,
};
