import type { Context } from '../context.js';
import type { SuiteResult } from '../report/types.js';
import { bullmq } from './bullmq.js';
import { handoff } from './handoff.js';
import { limits } from './limits.js';
import { loops } from './loops.js';
import { metrics } from './metrics.js';
import { rate } from './rate.js';
import { scale } from './scale.js';
import { throughput } from './throughput.js';
import { uncontended } from './uncontended.js';

export interface Suite {
  readonly id: string;
  run(ctx: Context): Promise<SuiteResult>;
}

/** In the order they run and appear in the report. */
export const suites: readonly Suite[] = [
  { id: 'uncontended', run: uncontended },
  { id: 'handoff', run: handoff },
  { id: 'throughput', run: throughput },
  { id: 'scale', run: scale },
  { id: 'bullmq', run: bullmq },
  { id: 'metrics', run: metrics },
  { id: 'limits', run: limits },
  { id: 'rate', run: rate },
  { id: 'loops', run: loops },
];
