import { tmpdir } from 'node:os';
import { type BackfillOptions, defaults } from '../src/options.js';

/** The CI configuration: a small workload that still makes the naive arm's jobs overlap. */
export function shortConfig(over: Partial<BackfillOptions> = {}): BackfillOptions {
  return {
    ...defaults,
    arms: ['naive', 'oncelock', 'loop'],
    backlog: 300,
    arrivals: 60,
    arrivalMs: 400,
    batch: 50,
    triggerMs: 20,
    rowCostMs: 2,
    maxMs: 15_000,
    out: tmpdir(),
    quiet: true,
    ...over,
  };
}
