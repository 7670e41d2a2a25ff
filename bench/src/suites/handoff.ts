import type { ArmSpec } from '../arms/arm.js';
import { postgresArms } from '../arms/postgres.js';
import { redisArms } from '../arms/redis.js';
import type { Context } from '../context.js';
import { count, ms, times } from '../format.js';
import { interleave } from '../interleave.js';
import type { Chart, SuiteResult, Table } from '../report/types.js';
import { ratio, type Summary, summarize } from '../stats.js';
import { resetStoreStats, storeLoadSince } from '../stores.js';
import { startWorker, stopAll, type Worker } from '../workers.js';
import type { Contention, HandoffRequest } from './handoff-protocol.js';

const TTL = 5000;

export interface HandoffFigures extends Summary {
  readonly store: 'redis' | 'postgres';
  readonly arm: string;
  readonly label: string;
  readonly holdMs: number;
  readonly grants: number;
  /** Grants that overlapped a live holder: must be 0. */
  readonly overlaps: number;
  /** Seconds the contenders spent waiting, summed over processes. */
  readonly waiterSeconds: number;
  /** Redis only: every command executed (those inside scripts included) per waiter-second. */
  readonly commandsPerWaiterSecond?: number;
  /** Redis only: requests sent as scripts per waiter-second. */
  readonly scriptsPerWaiterSecond?: number;
  readonly commandsPerGrant?: number;
  /** Redis only: milliseconds of Redis CPU per second of the run. */
  readonly redisCpuMsPerSecond?: number;
}

interface Tally {
  samples: number[];
  grants: number;
  overlaps: number;
  waitedMs: number;
  commands: number;
  scripts: number;
  cpuSeconds: number;
  runMs: number;
}

/**
 * Puts every grant and release of all processes on the parent's clock and walks them in order.
 * A handoff is a release followed by the next grant, to another process.
 */
export function handoffs(runs: readonly Contention[], offsets: readonly number[]) {
  type Ev = { t: number; grant: boolean; w: number };
  const events: Ev[] = runs.flatMap((r, w) => [
    ...r.grants.map((t) => ({ t: t - (offsets[w] ?? 0), grant: true, w })),
    ...r.releases.map((t) => ({ t: t - (offsets[w] ?? 0), grant: false, w })),
  ]);
  events.sort((a, b) => a.t - b.t);
  const samples: number[] = [];
  let overlaps = 0;
  let holder: number | null = null;
  let released: Ev | null = null;
  for (const e of events) {
    if (e.grant) {
      if (holder !== null) overlaps++;
      if (released && released.w !== e.w) samples.push(e.t - released.t);
      released = null;
      holder = e.w;
    } else {
      if (holder === e.w) holder = null;
      released = e;
    }
  }
  return { samples, overlaps, grants: runs.reduce((a, r) => a + r.grants.length, 0) };
}

async function contendAll(
  ctx: Context,
  workers: readonly Worker[],
  spec: ArmSpec,
  store: 'redis' | 'postgres',
  holdMs: number,
  round: number,
  tally: Tally,
): Promise<void> {
  const request: HandoffRequest = {
    type: 'run',
    store,
    arm: spec.id,
    key: `bench:handoff:${spec.id}:${holdMs}:${round}`,
    ttl: TTL,
    holdMs,
    ms: ctx.profile.handoff.ms,
  };
  const cpu = store === 'redis' ? await resetStoreStats(ctx.redis.admin) : 0;
  const began = performance.now();
  const runs = await Promise.all(workers.map((w) => w.ask<Contention>(request)));
  tally.runMs += performance.now() - began;
  if (store === 'redis') {
    const load = await storeLoadSince(ctx.redis.admin, cpu);
    tally.commands += load.totalCommands;
    tally.scripts += load.scripts;
    tally.cpuSeconds += load.cpuSeconds;
  }
  const h = handoffs(
    runs,
    workers.map((w) => w.offset),
  );
  tally.samples.push(...h.samples);
  tally.grants += h.grants;
  tally.overlaps += h.overlaps;
  tally.waitedMs += runs.reduce((a, r) => a + r.waitedMs, 0);
}

function figures(store: 'redis' | 'postgres', spec: ArmSpec, holdMs: number, t: Tally): HandoffFigures {
  const ws = t.waitedMs / 1000;
  const base = {
    store,
    arm: spec.id,
    label: spec.label,
    holdMs,
    ...summarize(t.samples),
    grants: t.grants,
    overlaps: t.overlaps,
    waiterSeconds: ws,
  };
  if (store !== 'redis') return base;
  return {
    ...base,
    commandsPerWaiterSecond: t.commands / ws,
    scriptsPerWaiterSecond: t.scripts / ws,
    commandsPerGrant: t.commands / t.grants,
    redisCpuMsPerSecond: (t.cpuSeconds * 1000) / (t.runMs / 1000),
  };
}

export async function handoff(ctx: Context): Promise<SuiteResult> {
  const p = ctx.profile.handoff;
  const notes: string[] = [];
  const stores = [
    { store: 'redis' as const, url: ctx.redis.url, holds: p.holdsMs, specs: redisArms(ctx.redis.url) },
    {
      store: 'postgres' as const,
      url: ctx.postgresUrl,
      holds: p.holdsMs.slice(0, 1),
      specs: postgresArms(ctx.postgresUrl),
    },
  ];
  const workers: Worker[] = [];
  const data: HandoffFigures[] = [];
  try {
    for (let i = 0; i < p.workers; i++)
      workers.push(await startWorker(new URL('./handoff-worker.ts', import.meta.url)));
    for (const { store, url, holds, specs } of stores) {
      const arms = specs.filter((s) => s.waits);
      for (const s of arms)
        await Promise.all(workers.map((w) => w.ask({ type: 'prepare', store, arm: s.id, url })));
      const runs = arms.flatMap((spec) => holds.map((holdMs) => ({ spec, holdMs })));
      const tallies = new Map(runs.map((r) => [r, newTally()]));
      await interleave(runs, p.rounds, (r, round) =>
        contendAll(ctx, workers, r.spec, store, r.holdMs, round, tallies.get(r) as Tally),
      );
      for (const r of runs) data.push(figures(store, r.spec, r.holdMs, tallies.get(r) as Tally));
      ctx.log(`  ${store}: ${arms.map((s) => s.id).join(', ')}`);
    }
    await Promise.all(workers.map((w) => w.ask({ type: 'close' })));
  } finally {
    await stopAll(workers);
  }
  const spread = Math.max(...workers.map((w) => Math.abs(w.offset)));
  notes.push(
    `Process clocks were aligned by ping before the runs; the largest correction was ${ms(spread)}.`,
  );
  for (const f of data)
    if (f.overlaps > 0) notes.push(`${f.store} ${f.label}: ${f.overlaps} grant(s) overlapped a live holder.`);
  return {
    id: 'handoff',
    title: 'Handoff between processes, and the load waiting puts on Redis',
    about:
      `${p.workers} processes contend for one key. Each holds it ${p.holdsMs.join(' or ')} ms, releases it, then ` +
      'steps aside as long again, so the next grant goes to a process that was waiting. A handoff is the time ' +
      "from the release call to the next holder's grant, both stamped with `performance.timeOrigin + " +
      'performance.now()` and aligned across processes. Every library waits its own way at its default ' +
      'settings (redlock: 10 retries 200 ms apart; redis-semaphore: a poll every 10 ms; oncelock: a release ' +
      'notification, with a slow fallback poll). Redis figures come from `INFO commandstats` on a private ' +
      '`redis-server`, reset before each run: commands include those run inside scripts; waiter-seconds are ' +
      `the time all processes spent inside acquire calls. ${p.rounds} round(s) of ${p.ms} ms per arm, interleaved.`,
    tables: tables(data),
    charts: charts(data),
    notes,
    data,
  };
}

function newTally(): Tally {
  return {
    samples: [],
    grants: 0,
    overlaps: 0,
    waitedMs: 0,
    commands: 0,
    scripts: 0,
    cpuSeconds: 0,
    runMs: 0,
  };
}

function tables(data: readonly HandoffFigures[]): Table[] {
  const out: Table[] = [];
  for (const store of ['redis', 'postgres'] as const) {
    for (const hold of [...new Set(data.filter((f) => f.store === store).map((f) => f.holdMs))]) {
      const rows = data.filter((f) => f.store === store && f.holdMs === hold);
      const ref = rows.find((f) => f.arm === 'oncelock');
      const head = ['arm', 'handoffs', 'p50', 'p99', 'p50 vs oncelock'];
      if (store === 'redis')
        head.push('commands / waiter·s', 'scripts / waiter·s', 'commands / grant', 'Redis CPU ms/s');
      out.push({
        caption: `${store}, hold ${hold} ms`,
        head,
        rows: rows.map((f) => [
          f.label,
          String(f.n),
          ms(f.p50),
          ms(f.p99),
          times(ratio(f.p50, ref?.p50)),
          ...(store === 'redis'
            ? [
                count(f.commandsPerWaiterSecond ?? Number.NaN),
                count(f.scriptsPerWaiterSecond ?? Number.NaN),
                count(f.commandsPerGrant ?? Number.NaN),
                count(f.redisCpuMsPerSecond ?? Number.NaN),
              ]
            : []),
        ]),
      });
    }
  }
  return out;
}

function charts(data: readonly HandoffFigures[]): Chart[] {
  const redis = data.filter((f) => f.store === 'redis');
  const hold = redis[0]?.holdMs;
  const first = redis.filter((f) => f.holdMs === hold);
  return [
    {
      file: 'handoff-redis.svg',
      title: `Handoff p50 between 8 processes, Redis, hold ${hold} ms (shorter is faster)`,
      unit: 'ms',
      log: true,
      bars: first.map((f) => ({ label: f.label, value: f.p50, text: ms(f.p50) })),
    },
    {
      file: 'store-load-redis.svg',
      title: `Redis commands per waiter-second, hold ${hold} ms (shorter is lighter)`,
      unit: 'commands',
      log: true,
      bars: first.map((f) => ({
        label: f.label,
        value: f.commandsPerWaiterSecond ?? Number.NaN,
        text: count(f.commandsPerWaiterSecond ?? Number.NaN),
      })),
    },
  ];
}
