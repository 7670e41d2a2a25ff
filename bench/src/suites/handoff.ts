import type { ArmSpec } from '../arms/arm.js';
import { postgresArms } from '../arms/postgres.js';
import { redisArms } from '../arms/redis.js';
import type { Context } from '../context.js';
import { count, ms, times } from '../format.js';
import { interleave } from '../interleave.js';
import type { Chart, SuiteResult, Table } from '../report/types.js';
import { ratio, type Summary, summarize } from '../stats.js';
import { resetStoreStats, storeLoadSince } from '../stores.js';
import { startWorkers, stopAll, type Worker } from '../workers.js';
import type { Contention, HandoffRequest } from './handoff-protocol.js';

const TTL = 5000;

/** What lies between oncelock's handoff on PostgreSQL and the floor's, hop by hop. */
export const POSTGRES_GAP =
  'postgres: a release hands the key to one waiter (the longest waiting) in its own statement and names it in a ' +
  "NOTIFY to that waiter's LISTEN session, with the fence. From the release call to the next grant oncelock runs the " +
  'release statement (delete the row, pick the waiter, check in pg_locks that its session still holds its count, ' +
  'draw a fence, write its row) and that NOTIFY, which PostgreSQL signals at commit to every LISTEN session of the ' +
  "database: every worker's, also in the 2-process shape, since the idle workers keep theirs open. The blocking floor " +
  'hands the lock over inside the lock manager, waking only the one backend that waits, with no fence and no row. ' +
  'The raw wake-one by NOTIFY is the least a LISTEN-based handoff costs: its release gives the advisory lock back ' +
  'and NOTIFYs the oldest waiter, which then takes the lock with one more statement (a hop oncelock does not take), ' +
  'with no TTL, fence or row. Neither commit waits for a WAL flush in advisory mode (fences come from below a ' +
  'durable ceiling).';
type Store = 'redis' | 'postgres';

export interface HandoffFigures extends Summary {
  readonly store: Store;
  readonly arm: string;
  readonly label: string;
  readonly processes: number;
  readonly holdMs: number;
  readonly grants: number;
  /** Grants that overlapped a live holder: must be 0. */
  readonly overlaps: number;
  /** Acquire or release calls that failed, and the first such message. */
  readonly errors: number;
  readonly firstError?: string;
  /** Seconds the contenders spent waiting, summed over processes. */
  readonly waiterSeconds: number;
  /** Redis only: every command executed (those inside scripts included) per waiter-second. */
  readonly commandsPerWaiterSecond?: number;
  /** Redis only: requests sent as scripts per waiter-second. */
  readonly scriptsPerWaiterSecond?: number;
  readonly commandsPerGrant?: number;
  /** Redis only: milliseconds of Redis CPU per second of the run. */
  readonly redisCpuMsPerSecond?: number;
  /** Redis only: each command's calls per grant, to see what a handoff costs (`evalsha`, `subscribe`, ...). */
  readonly perGrant?: Record<string, number>;
}

export interface Run {
  readonly spec: ArmSpec;
  readonly processes: number;
  readonly holdMs: number;
  /** Permits of the key: absent for a plain lock. */
  readonly limit?: number;
}

export interface Tally {
  samples: number[];
  grants: number;
  overlaps: number;
  waitedMs: number;
  commands: number;
  scripts: number;
  cpuSeconds: number;
  runMs: number;
  byCommand: Record<string, number>;
  errors: string[];
}

/**
 * Puts every grant and release of all processes on the parent's clock and walks them in order.
 * A handoff is a release followed by the next grant, to another process; with `limit` holders
 * at once, releases are handed on oldest first, and a grant while `limit` are held is an overlap.
 */
export function handoffs(runs: readonly Contention[], offsets: readonly number[], limit = 1) {
  type Ev = { t: number; grant: boolean; w: number };
  const events: Ev[] = runs.flatMap((r, w) => [
    ...r.grants.map((t) => ({ t: t - (offsets[w] ?? 0), grant: true, w })),
    ...r.releases.map((t) => ({ t: t - (offsets[w] ?? 0), grant: false, w })),
  ]);
  events.sort((a, b) => a.t - b.t);
  const samples: number[] = [];
  let overlaps = 0;
  const holders = new Set<number>();
  const released: Ev[] = [];
  for (const e of events) {
    if (e.grant) {
      if (holders.size >= limit) overlaps++;
      const r = released.shift();
      if (r && r.w !== e.w) samples.push(e.t - r.t);
      holders.add(e.w);
    } else {
      holders.delete(e.w);
      released.push(e);
      // More releases waiting than permits: the oldest found no waiter, and no grant answers it.
      if (released.length > limit) released.shift();
    }
  }
  return { samples, overlaps, grants: runs.reduce((a, r) => a + r.grants.length, 0) };
}

/** One round of one run: the first `run.processes` workers contend; the store's counters bracket it. */
async function contendAll(
  ctx: Context,
  all: readonly Worker[],
  store: Store,
  run: Run,
  round: number,
  ms: number,
  tally: Tally,
) {
  const workers = all.slice(0, run.processes);
  const request: HandoffRequest = {
    type: 'run',
    store,
    arm: run.spec.id,
    key: `bench:handoff:${run.spec.id}:${run.processes}:${run.holdMs}:${run.limit ?? 1}:${round}`,
    ttl: TTL,
    holdMs: run.holdMs,
    ms,
    ...(run.limit ? { limit: run.limit } : {}),
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
    for (const [name, n] of Object.entries(load.commands))
      tally.byCommand[name] = (tally.byCommand[name] ?? 0) + n;
  }
  const h = handoffs(
    runs,
    workers.map((w) => w.offset),
    run.limit,
  );
  tally.samples.push(...h.samples);
  tally.grants += h.grants;
  tally.overlaps += h.overlaps;
  tally.waitedMs += runs.reduce((a, r) => a + r.waitedMs, 0);
  tally.errors.push(...runs.flatMap((r) => r.errors));
}

export function figures(store: Store, run: Run, t: Tally): HandoffFigures {
  const ws = t.waitedMs / 1000;
  const base = {
    store,
    arm: run.spec.id,
    label: run.spec.label,
    processes: run.processes,
    holdMs: run.holdMs,
    ...summarize(t.samples),
    grants: t.grants,
    overlaps: t.overlaps,
    errors: t.errors.length,
    ...(t.errors[0] ? { firstError: t.errors[0] } : {}),
    waiterSeconds: ws,
  };
  if (store !== 'redis') return base;
  return {
    ...base,
    commandsPerWaiterSecond: t.commands / ws,
    scriptsPerWaiterSecond: t.scripts / ws,
    commandsPerGrant: t.commands / t.grants,
    redisCpuMsPerSecond: (t.cpuSeconds * 1000) / (t.runMs / 1000),
    perGrant: Object.fromEntries(
      Object.entries(t.byCommand)
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => [name, Number((n / t.grants).toFixed(2))]),
    ),
  };
}

export async function handoff(ctx: Context): Promise<SuiteResult> {
  const p = ctx.profile.handoff;
  const stores = [
    { store: 'redis' as const, url: ctx.redis.url, runs: p.runs, specs: redisArms(ctx.redis.url) },
    {
      store: 'postgres' as const,
      url: ctx.postgresUrl,
      runs: p.runs.filter((r) => r.postgres),
      specs: postgresArms(ctx.postgresUrl),
    },
  ];
  const data: HandoffFigures[] = [];
  const most = Math.max(...p.runs.map((r) => r.processes));
  const workers: Worker[] = await startWorkers(most, new URL('./handoff-worker.ts', import.meta.url));
  try {
    for (const { store, url, runs: shapes, specs } of stores) {
      const arms = specs.filter((s) => s.waits);
      data.push(
        ...(await contendStore(ctx, workers, { store, url, arms, shapes, rounds: p.rounds, ms: p.ms })),
      );
      ctx.log(`  ${store}: ${arms.map((s) => s.id).join(', ')}`);
    }
    await Promise.all(workers.map((w) => w.ask({ type: 'close' })));
  } finally {
    await stopAll(workers);
  }
  const spread = Math.max(...workers.map((w) => Math.abs(w.offset)));
  const notes = [
    `Process clocks were aligned by ping before the runs; the largest correction was ${ms(spread)}.`,
  ];
  for (const f of data)
    if (f.overlaps > 0) notes.push(`${f.store} ${f.label}: ${f.overlaps} grant(s) overlapped a live holder.`);
  if (data.some((f) => f.store === 'postgres')) notes.push(POSTGRES_GAP);
  for (const f of data) {
    if (f.arm !== 'oncelock' || !f.perGrant) continue;
    const per = (c: string) => count(f.perGrant?.[c] ?? 0);
    notes.push(
      `oncelock, ${f.processes} processes, hold ${f.holdMs} ms: per grant Redis ran ${per('evalsha')} scripts ` +
        `(the release, which hands the key over; acquires that were refused, by which waiters join; and any acquire ` +
        `of a waiter that was woken rather than handed the key) and ${per('subscribe')} SUBSCRIBE ` +
        `and ${per('unsubscribe')} UNSUBSCRIBE.`,
    );
  }
  for (const f of data)
    if (f.errors > 0)
      notes.push(
        `${f.store} ${f.label}, ${f.processes} processes: ${f.errors} call(s) failed, first: ${f.firstError}`,
      );
  const shapes = p.runs.map((r) => `${r.processes} processes holding ${r.holdMs} ms`).join('; ');
  return {
    id: 'handoff',
    title: 'Handoff between processes, and the load waiting puts on Redis',
    about:
      `Processes contend for one key (${shapes}). Each holder releases the key, then steps aside as long as it ` +
      'held it, so the next grant goes to a process that was waiting. A handoff is the time from the release ' +
      "call to the next holder's grant, both stamped with `performance.timeOrigin + performance.now()` and " +
      'aligned across processes. Every library waits its own way at its default settings (redlock: retries ' +
      '200 ms apart with jitter; redis-semaphore: a poll every 10 ms; oncelock: a release hands the key to the first waiting process and tells it so, with a ' +
      'slow fallback poll). The floors are the least a handoff can cost on this machine: on Redis, a raw wake-one ' +
      'handoff (SET NX, or join a queue in the same script; the release deletes the key and publishes to the first ' +
      'in the queue, which tries again: one hop more than oncelock, which hands the key over, with no fence or holder record); on PostgreSQL, ' +
      '`pg_advisory_lock` blocking in the server, beside a raw wake-one by LISTEN/NOTIFY (see the notes). Redis figures come from ' +
      '`INFO commandstats` on a private `redis-server`, reset before each run; commands include those run ' +
      'inside scripts; waiter-seconds are the time all processes spent inside acquire calls. ' +
      `${p.rounds} round(s) of ${p.ms} ms per arm and shape, interleaved.`,
    tables: tables(data),
    charts: charts(data),
    notes,
    data,
  };
}

/**
 * Every shape with every arm of one store, on `workers` already started: the arms are prepared in
 * each worker (with `limit`, as permits), then the runs go round by round, interleaved.
 */
export async function contendStore(
  ctx: Context,
  workers: readonly Worker[],
  o: {
    store: Store;
    url: string;
    arms: readonly ArmSpec[];
    shapes: ReadonlyArray<{ processes: number; holdMs: number }>;
    rounds: number;
    ms: number;
    limit?: number;
  },
): Promise<HandoffFigures[]> {
  const { store, url, limit } = o;
  for (const s of o.arms)
    await Promise.all(workers.map((w) => w.ask({ type: 'prepare', store, arm: s.id, url, limit })));
  const runs: Run[] = o.shapes.flatMap((r) =>
    o.arms.map((spec) => ({ spec, processes: r.processes, holdMs: r.holdMs, ...(limit ? { limit } : {}) })),
  );
  const tallies = new Map(runs.map((r) => [r, newTally()]));
  await interleave(runs, o.rounds, (r, round) =>
    contendAll(ctx, workers, store, r, round, o.ms, tallies.get(r) as Tally),
  );
  return runs.map((r) => figures(store, r, tallies.get(r) as Tally));
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
    byCommand: {},
    errors: [],
  };
}

function tables(data: readonly HandoffFigures[]): Table[] {
  const shapes = [...new Set(data.map((f) => `${f.store}|${f.processes}|${f.holdMs}`))];
  return shapes.map((shape) => {
    const rows = data.filter((f) => `${f.store}|${f.processes}|${f.holdMs}` === shape);
    const { store, processes, holdMs } = rows[0] as HandoffFigures;
    return handoffTable(`${store}, ${processes} processes, hold ${holdMs} ms`, rows, 'oncelock');
  });
}

/** One shape's handoffs, each arm's p50 divided by that of `ref` (an arm id). */
export function handoffTable(caption: string, rows: readonly HandoffFigures[], ref: string): Table {
  const by = rows.find((f) => f.arm === ref);
  const redis = rows[0]?.store === 'redis';
  return {
    caption,
    head: [
      'arm',
      'handoffs',
      'p50',
      'p99',
      `p50 vs ${ref}`,
      ...(redis ? ['commands / waiter·s', 'scripts / waiter·s', 'commands / grant', 'Redis CPU ms/s'] : []),
    ],
    rows: rows.map((f) => [
      f.label,
      String(f.n),
      ms(f.p50),
      ms(f.p99),
      times(ratio(f.p50, by?.p50)),
      ...(redis
        ? [
            f.commandsPerWaiterSecond,
            f.scriptsPerWaiterSecond,
            f.commandsPerGrant,
            f.redisCpuMsPerSecond,
          ].map((x) => count(x ?? Number.NaN))
        : []),
    ]),
  };
}

function charts(data: readonly HandoffFigures[]): Chart[] {
  const first = data[0];
  if (!first) return [];
  const main = data.filter(
    (f) => f.store === 'redis' && f.processes === first.processes && f.holdMs === first.holdMs,
  );
  const shape = `${first.processes} processes, hold ${first.holdMs} ms`;
  return [
    {
      file: 'handoff-redis.svg',
      title: `Handoff p50 on Redis, ${shape} (shorter is faster)`,
      unit: 'ms',
      log: true,
      bars: main.map((f) => ({ label: f.label, value: f.p50, text: ms(f.p50) })),
    },
    {
      file: 'store-load-redis.svg',
      title: `Redis commands per waiter-second, ${shape} (shorter is lighter)`,
      unit: 'commands',
      log: true,
      bars: main.map((f) => ({
        label: f.label,
        value: f.commandsPerWaiterSecond ?? Number.NaN,
        text: count(f.commandsPerWaiterSecond ?? Number.NaN),
      })),
    },
  ];
}
