/** One process holding many leases for the scale suite, measuring what keeping them costs it. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sleep } from '../clock.js';
import { serve } from '../workers.js';
import { type Holding, type ScaleArm, scaleArms } from './scale-arms.js';

export type ScaleRequest =
  | { type: 'hold'; arm: ScaleArm; url: string; leases: number; ttl: number }
  | { type: 'measure'; windowMs: number }
  | { type: 'close' };

export interface ScaleSample {
  readonly cpuPercent: number;
  readonly loopDelayP50: number;
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
  readonly roundTrips: number;
  readonly ticks: number;
  readonly maxPerTick: number;
  readonly extended: number;
  readonly lost: number;
  readonly windowMs: number;
}

const RESOLUTION = 5;
let holding: Holding | undefined;

async function measure(windowMs: number): Promise<ScaleSample> {
  const held = holding as Holding;
  held.take();
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION });
  delay.enable();
  const cpu = process.cpuUsage();
  const began = performance.now();
  await sleep(windowMs);
  const used = process.cpuUsage(cpu);
  const elapsed = performance.now() - began;
  delay.disable();
  // The histogram holds the time between samples: what exceeds the sampling interval is the delay.
  const late = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION);
  return {
    cpuPercent: ((used.user + used.system) / 1000 / elapsed) * 100,
    loopDelayP50: late(delay.percentile(50)),
    loopDelayP99: late(delay.percentile(99)),
    loopDelayMax: late(delay.max),
    ...held.take(),
    windowMs: elapsed,
  };
}

serve(async (body) => {
  const m = body as ScaleRequest;
  if (m.type === 'hold') {
    const began = performance.now();
    holding = await scaleArms[m.arm].hold(m.url, m.leases, m.ttl);
    return performance.now() - began;
  }
  if (m.type === 'measure') return measure(m.windowMs);
  await holding?.release();
  holding = undefined;
  return undefined;
});
