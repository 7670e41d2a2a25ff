import type { Context } from '../context.js';
import { count, ms } from '../format.js';
import { interleave } from '../interleave.js';
import type { SuiteResult } from '../report/types.js';
import { resetStoreStats, storeLoadSince } from '../stores.js';
import { startWorker } from '../workers.js';
import { type ScaleArm, scaleArms } from './scale-arms.js';
import type { ScaleRequest, ScaleSample } from './scale-worker.js';

export interface ScaleFigures {
  readonly arm: ScaleArm;
  readonly label: string;
  readonly leases: number;
  readonly ttl: number;
  /** Milliseconds to take all the leases, 500 at a time (the first round trips included). */
  readonly takeMs: number;
  /** Extension round trips per second, counted by the client. */
  readonly roundTripsPerSecond: number;
  /** The most round trips sent in one event-loop turn (a heartbeat tick). */
  readonly maxRoundTripsPerTick: number;
  readonly leasesExtendedPerSecond: number;
  readonly cpuPercent: number;
  readonly loopDelayP50: number;
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
  readonly redisCommandsPerSecond: number;
  readonly redisCpuMsPerSecond: number;
  readonly lost: number;
}

/** One fresh process per arm and round, so that no arm inherits another's heap or timers. */
async function holdAndMeasure(
  ctx: Context,
  arm: ScaleArm,
): Promise<ScaleSample & { commands: number; cpuSeconds: number; takeMs: number }> {
  const p = ctx.profile.scale;
  const worker = await startWorker(new URL('./scale-worker.ts', import.meta.url));
  try {
    const hold: ScaleRequest = { type: 'hold', arm, url: ctx.redis.url, leases: p.leases, ttl: p.ttl };
    const takeMs = await worker.ask<number>(hold);
    const cpu = await resetStoreStats(ctx.redis.admin);
    const sample = await worker.ask<ScaleSample>({ type: 'measure', windowMs: p.windowMs });
    const load = await storeLoadSince(ctx.redis.admin, cpu);
    await worker.ask({ type: 'close' });
    return { ...sample, commands: load.totalCommands, cpuSeconds: load.cpuSeconds, takeMs };
  } finally {
    await worker.stop();
    await ctx.redis.admin.flushall();
  }
}

export async function scale(ctx: Context): Promise<SuiteResult> {
  const p = ctx.profile.scale;
  const arms = Object.keys(scaleArms) as ScaleArm[];
  const samples = new Map<ScaleArm, Array<Awaited<ReturnType<typeof holdAndMeasure>>>>(
    arms.map((a) => [a, []]),
  );
  await interleave(arms, p.rounds, async (arm) => {
    samples.get(arm)?.push(await holdAndMeasure(ctx, arm));
  });
  const data: ScaleFigures[] = arms.map((arm) => {
    const ss = samples.get(arm) ?? [];
    const seconds = ss.reduce((a, s) => a + s.windowMs, 0) / 1000;
    const sum = (f: (s: (typeof ss)[number]) => number) => ss.reduce((a, s) => a + f(s), 0);
    const mean = (f: (s: (typeof ss)[number]) => number) => sum(f) / ss.length;
    return {
      arm,
      label: scaleArms[arm].label,
      leases: p.leases,
      ttl: p.ttl,
      takeMs: mean((s) => s.takeMs),
      roundTripsPerSecond: sum((s) => s.roundTrips) / seconds,
      maxRoundTripsPerTick: Math.max(...ss.map((s) => s.maxPerTick)),
      leasesExtendedPerSecond: sum((s) => s.extended) / seconds,
      cpuPercent: mean((s) => s.cpuPercent),
      loopDelayP50: mean((s) => s.loopDelayP50),
      loopDelayP99: mean((s) => s.loopDelayP99),
      loopDelayMax: Math.max(...ss.map((s) => s.loopDelayMax)),
      redisCommandsPerSecond: sum((s) => s.commands) / seconds,
      redisCpuMsPerSecond: (sum((s) => s.cpuSeconds) * 1000) / seconds,
      lost: sum((s) => s.lost),
    };
  });
  const notes = data
    .filter((f) => f.lost > 0)
    .map(
      (f) =>
        `${f.label}: ${f.lost} lease(s) were lost (their extension came too late or failed), so fewer were kept alive in the window.`,
    );
  return {
    id: 'scale',
    title: `${count(p.leases)} leases held with auto-extension in one process`,
    about:
      `One process takes ${count(p.leases)} keys with a TTL of ${p.ttl} ms and keeps them for ${p.windowMs} ms ` +
      `(${p.rounds} round(s) per arm, interleaved, each in a fresh process). oncelock extends them from one ` +
      'heartbeat loop in batches; the alternatives give each lock its own interval timer, set to a third of the ' +
      'TTL, the interval oncelock extends at. Round trips are counted by the client; CPU is the holding ' +
      "process's, event-loop delay is how late a 5 ms timer fired; Redis figures come from `INFO commandstats` " +
      'and `INFO cpu`.',
    tables: [
      {
        head: [
          'arm',
          'round trips/s',
          'most round trips in one tick',
          'leases extended/s',
          'CPU',
          'loop delay p50 / p99 / max',
          'Redis commands/s',
          'Redis CPU ms/s',
          `time to take ${count(p.leases)}`,
        ],
        rows: data.map((f) => [
          f.label,
          count(f.roundTripsPerSecond),
          f.arm === 'oncelock' ? String(f.maxRoundTripsPerTick) : 'n/a (one per lock)',
          count(f.leasesExtendedPerSecond),
          `${f.cpuPercent.toFixed(1)}%`,
          `${ms(f.loopDelayP50)} / ${ms(f.loopDelayP99)} / ${ms(f.loopDelayMax)}`,
          count(f.redisCommandsPerSecond),
          count(f.redisCpuMsPerSecond),
          ms(f.takeMs),
        ]),
      },
    ],
    charts: [
      {
        file: 'scale-round-trips.svg',
        title: `Round trips per second to keep ${count(p.leases)} leases alive (shorter is lighter)`,
        unit: 'round trips/s',
        log: true,
        bars: data.map((f) => ({
          label: f.label,
          value: f.roundTripsPerSecond,
          text: count(f.roundTripsPerSecond),
        })),
      },
      {
        file: 'scale-cpu.svg',
        title: `CPU of the process holding ${count(p.leases)} leases (shorter is lighter)`,
        unit: '%',
        bars: data.map((f) => ({ label: f.label, value: f.cpuPercent, text: `${f.cpuPercent.toFixed(1)}%` })),
      },
    ],
    notes,
    data,
  };
}
