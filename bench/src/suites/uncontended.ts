import pg from 'pg';
import type { LockArm } from '../arms/arm.js';
import type { Context } from '../context.js';
import { count, layerSteps, ms, times } from '../format.js';
import type { Chart, SuiteResult, Table } from '../report/types.js';
import { type ArmFigures, type Counter, measureStores, type Round } from './latency.js';

const TTL = 10_000;

/** Sequential acquire + release pairs on a free key for `duration` ms, each timed. */
export async function sequential(arm: LockArm, key: string, duration: number): Promise<Round> {
  const samples: number[] = [];
  const began = performance.now();
  while (performance.now() < began + duration) {
    const t0 = performance.now();
    const held = await arm.acquire(key, TTL, 0);
    if (!held) throw new Error(`uncontended acquire of ${key} was refused`);
    await held.release();
    samples.push(performance.now() - t0);
  }
  return { samples, ops: samples.length, ms: performance.now() - began };
}

export async function uncontended(ctx: Context): Promise<SuiteResult> {
  const p = ctx.profile.uncontended;
  const data = await measureStores(ctx, {
    rounds: p.rounds,
    breakdown: true,
    round: (arm, spec, i) => sequential(arm, `bench:uncontended:${spec.id}`, i < 0 ? p.warmupMs : p.ms),
    counter: (store) => (store === 'postgres' ? walFlushes(ctx.postgresUrl) : Promise.resolve(undefined)),
  });
  return {
    id: 'uncontended',
    title: 'Uncontended acquire + release',
    about:
      `One caller takes a free key and gives it back, again and again for ${p.ms} ms per round, ${p.rounds} rounds, ` +
      'the arms of each store interleaved round by round. Each pair is timed from the acquire call to the ' +
      'settled release. Redis runs on a private `redis-server` on loopback; PostgreSQL on loopback. ' +
      'Ratios are against the floor of the same store, measured in the same run.',
    tables: Object.entries(data).map(([store, rows]) => latencyTable(store, rows)),
    charts: Object.entries(data).map(([store, rows]) => p50Chart(`uncontended-${store}`, store, rows)),
    notes: [
      'Rows marked "breakdown" are not alternatives: they are parts of oncelock measured alone (its Lua scripts ' +
        'sent straight through ioredis; the backend called without `lease()`), or, on PostgreSQL, the least a ' +
        'lease with a TTL and a fence costs there (a row upserted with a fence from a sequence, then deleted), so ' +
        'that the gap between the floor and oncelock can be read step by step. The row whose commit is flushed to ' +
        'disk is not a step: it shows what a flush per grant costs, which oncelock paid before schema version 4 ' +
        'and no longer does in advisory mode (its fences come from below a durable ceiling).',
      ...gapNotes(data),
      'PostgreSQL "WAL flushes / op" is the growth of `pg_stat_wal.wal_sync` per acquire + release. The counter is ' +
        'server-wide: other sessions on the same server add to it.',
    ],
    data,
  };
}

/**
 * Splits oncelock's p50 gap to the floor along the breakdown arms: each step is the difference
 * between the medians of two neighbouring layers, so the steps add up to the whole gap.
 */
function gapNotes(data: Record<string, ArmFigures[]>): string[] {
  const out: string[] = [];
  for (const [store, rows] of Object.entries(data)) {
    const at = (arm: string) => rows.find((r) => r.arm === arm)?.p50;
    const floor = rows.find((r) => r.floor)?.p50;
    const whole = at('oncelock');
    if (floor === undefined || whole === undefined) continue;
    // Every store's layers in one list, from the floor up: a store skips the arms it does not have.
    const layers: Array<[string, number | undefined]> = [
      ["oncelock's Lua scripts in place of SET NX + compare-and-delete", at('oncelock-scripts')],
      ['a lease row with a TTL and a fence in place of the advisory lock', at('row-async')],
      ["the backend's own code", at('oncelock-backend')],
      ['`lease()` (token, validation, lease handle, heartbeat, signal)', whole],
    ];
    const steps = layerSteps(floor, layers);
    if (steps.length > 1)
      out.push(
        `${store}: oncelock's p50 is ${ms(whole - floor)} above the floor's; by layer: ${steps.join(', ')}.`,
      );
  }
  return out;
}

function latencyTable(store: string, rows: readonly ArmFigures[]): Table {
  const wal = store === 'postgres';
  return {
    caption: store,
    head: [
      'arm',
      'p50',
      'p99',
      'ops/s',
      'p50 vs floor',
      'time per op vs floor',
      ...(wal ? ['WAL flushes / op'] : []),
    ],
    rows: rows.map((r) => [
      r.label,
      ms(r.p50),
      ms(r.p99),
      count(r.opsPerSec),
      times(r.p50VsFloor),
      times(r.opsVsFloor),
      ...(wal ? [count(r.counterPerOp ?? Number.NaN)] : []),
    ]),
  };
}

/** PostgreSQL's count of WAL flushes (fsyncs), server-wide. */
async function walFlushes(url: string): Promise<Counter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    read: async () =>
      Number(
        (await client.query<{ n: string }>('SELECT wal_sync AS n FROM pg_stat_wal')).rows[0]?.n ?? Number.NaN,
      ),
    close: () => client.end(),
  };
}

function p50Chart(file: string, store: string, rows: readonly ArmFigures[]): Chart {
  return {
    file: `${file}.svg`,
    title: `Uncontended acquire + release, ${store}: p50 latency (shorter is faster)`,
    unit: 'ms',
    bars: rows.map((r) => ({ label: r.label, value: r.p50, text: ms(r.p50) })),
  };
}
