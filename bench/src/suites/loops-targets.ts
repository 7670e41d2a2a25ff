import { ms, times } from '../format.js';
import type { TargetResult } from '../report/targets.js';
import type { LoopsData } from './loops.js';

/** Issue 19's targets: from `wakeSingleton` to the body starting, the leader in another process. */
export function loopsTargets(d: LoopsData | undefined): TargetResult[] {
  const limits = [
    {
      store: 'redis',
      limitMs: 2,
      target:
        'wakeSingleton to the body starting: p50 at most 2 ms on Redis (loopback, the leader in another process)',
    },
    {
      store: 'postgres',
      limitMs: 5,
      target:
        'wakeSingleton to the body starting: p50 at most 5 ms on PostgreSQL (loopback, the leader in another process)',
    },
  ] as const;
  return limits.map(({ store, limitMs, target }) => {
    const once = d?.wakes.find((f) => f.store === store && f.arm === 'oncelock');
    const floor = d?.wakes.find((f) => f.store === store && f.arm === 'floor');
    if (!once) return { target, measured: 'not measured in this run', met: null };
    return {
      target,
      measured:
        `p50 ${ms(once.p50)}, p99 ${ms(once.p99)}` +
        (floor ? `; the raw floor: p50 ${ms(floor.p50)} (oncelock ${times(once.p50VsFloor)} of it)` : ''),
      met: once.p50 <= limitMs,
    };
  });
}
