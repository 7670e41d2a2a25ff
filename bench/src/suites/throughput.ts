import type { LockArm } from '../arms/arm.js';
import type { Context } from '../context.js';
import { count, layerSteps, ms, times } from '../format.js';
import type { SuiteResult } from '../report/types.js';
import { type ArmFigures, measureStores, type Round } from './latency.js';

const TTL = 10_000;

/** `keys` loops at once, each taking and giving back its own key until `duration` ms have passed. */
async function concurrent(arm: LockArm, prefix: string, keys: number, duration: number): Promise<Round> {
  const samples: number[] = [];
  const began = performance.now();
  const end = began + duration;
  await Promise.all(
    Array.from({ length: keys }, async (_, k) => {
      const key = `${prefix}:${k}`;
      while (performance.now() < end) {
        const t0 = performance.now();
        const held = await arm.acquire(key, TTL, 0);
        if (!held) throw new Error(`acquire of ${key}, which only this loop uses, was refused`);
        await held.release();
        samples.push(performance.now() - t0);
      }
    }),
  );
  return { samples, ops: samples.length, ms: performance.now() - began };
}

export async function throughput(ctx: Context): Promise<SuiteResult> {
  const p = ctx.profile.throughput;
  const data = await measureStores(ctx, {
    rounds: p.rounds,
    // PostgreSQL's gap is read layer by layer, as in the uncontended suite.
    breakdown: (store) => store === 'postgres',
    round: (arm, spec, i) =>
      concurrent(arm, `bench:throughput:${spec.id}`, p.keys, i < 0 ? Math.min(300, p.ms) : p.ms),
  });
  return {
    id: 'throughput',
    title: `Throughput over ${p.keys} keys at once`,
    about:
      `${p.keys} loops run at once in one process, each taking and releasing its own key for ${p.ms} ms per ` +
      `round, ${p.rounds} rounds interleaved. Every arm uses the connections it makes by default ` +
      '(one per client for Redis; one session for PostgreSQL, where advisory locks live).',
    tables: Object.entries(data).map(([store, rows]) => ({
      caption: store,
      head: ['arm', 'ops/s', 'p50', 'p99', 'throughput vs floor'],
      rows: rows.map((r) => [r.label, count(r.opsPerSec), ms(r.p50), ms(r.p99), times(1 / r.opsVsFloor)]),
    })),
    charts: Object.entries(data).map(([store, rows]) => ({
      file: `throughput-${store}.svg`,
      title: `Acquire + release over ${p.keys} keys at once, ${store}: operations per second (longer is faster)`,
      unit: 'ops/s',
      bars: rows.map((r) => ({ label: r.label, value: r.opsPerSec, text: count(r.opsPerSec) })),
    })),
    notes: gapNotes(data),
    data,
  };
}

/**
 * Splits oncelock's time per operation over the floor's (the inverse of throughput, which is what
 * 100 loops sharing one session are limited by) along the breakdown arms, from the floor up.
 */
function gapNotes(data: Record<string, ArmFigures[]>): string[] {
  const out: string[] = [];
  for (const [store, rows] of Object.entries(data)) {
    const perOp = (r: ArmFigures | undefined) => (r ? 1000 / r.opsPerSec : undefined);
    const floor = perOp(rows.find((r) => r.floor));
    const whole = perOp(rows.find((r) => r.arm === 'oncelock'));
    if (floor === undefined || whole === undefined || !rows.some((r) => r.breakdown)) continue;
    const layers: Array<[string, number | undefined]> = [
      [
        'a lease row with a TTL and a fence in place of the advisory lock',
        perOp(rows.find((r) => r.arm === 'row-async')),
      ],
      ["the backend's own statements and code", perOp(rows.find((r) => r.arm === 'oncelock-backend'))],
      ['`lease()` (token, validation, lease handle, heartbeat, signal)', whole],
    ];
    const steps = layerSteps(floor, layers);
    out.push(
      `${store}: time per operation (one second over ops/s) ${ms(whole)} against the floor's ${ms(floor)}; by layer: ${steps.join(', ')}.`,
    );
  }
  return out;
}
