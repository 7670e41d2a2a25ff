import { type LockBackend, wakeSingleton } from '@oncelock/core';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend } from '@oncelock/redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { sleep, wallNow } from '../clock.js';
import type { Context } from '../context.js';
import { ms, times } from '../format.js';
import type { SuiteResult, Table } from '../report/types.js';
import { ratio, type Summary, summarize } from '../stats.js';
import { startWorker, type Worker } from '../workers.js';
import type { LoopsArm, LoopsCounts } from './loops-protocol.js';

// Sizes of the loops suite, by profile (kept here: only this suite reads them).
const sizes = {
  full: { samples: 500, warmup: 50, gapMs: 2 },
  quick: { samples: 20, warmup: 5, gapMs: 2 },
};

type Store = 'redis' | 'postgres';

/** From the parent's call to the worker's event, on one clock (the worker's offset corrected). */
export interface WakeFigures extends Summary {
  readonly store: Store;
  readonly arm: LoopsArm;
  readonly label: string;
  /** p50 over the floor's p50. */
  readonly p50VsFloor: number;
}

export interface LoopsData {
  readonly wakes: WakeFigures[];
}

const CHANNEL = 'bench_loops_raw';

/** What the parent sends for each arm: a wake-up, or a raw message on the same store. */
async function senders(store: Store, url: string, name: string) {
  let backend: LockBackend;
  let raw: () => Promise<unknown>;
  let close: () => Promise<unknown>;
  if (store === 'redis') {
    backend = redisBackend({ url });
    const client = new Redis(url);
    raw = () => client.publish(CHANNEL, '');
    close = () => client.quit();
  } else {
    backend = postgresBackend({ connectionString: url });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    raw = () => client.query(`NOTIFY ${CHANNEL}`);
    close = () => client.end();
  }
  const send: Record<LoopsArm, () => Promise<unknown>> = {
    oncelock: () => wakeSingleton(backend, name),
    floor: raw,
  };
  return { send, close: () => Promise.all([backend.close(), close()]) };
}

/** One sample: from just before the parent's call to the worker's event, in ms. */
async function sample(w: Worker, arm: LoopsArm, send: () => Promise<unknown>): Promise<number> {
  const counts = await w.ask<LoopsCounts>({ type: 'count' });
  const sent = wallNow();
  const event = w.ask<number>({ type: 'wait', arm, index: counts[arm], timeoutMs: 10_000 });
  await send();
  return (await event) - w.offset - sent;
}

async function measureStore(ctx: Context, store: Store, url: string): Promise<WakeFigures[]> {
  const p = sizes[ctx.profile.name];
  const name = `bench-loops-${store}`;
  const w = await startWorker(new URL('./loops-worker.ts', import.meta.url));
  const s = await senders(store, url, name);
  const samples: Record<LoopsArm, number[]> = { oncelock: [], floor: [] };
  try {
    await w.ask({ type: 'start', store, url, name, channel: CHANNEL });
    await w.calibrate();
    const arms: LoopsArm[] = ['oncelock', 'floor'];
    for (let i = 0; i < p.warmup + p.samples; i++) {
      // Alternating which goes first, so that neither always follows the other's traffic.
      for (const arm of i % 2 === 0 ? arms : [...arms].reverse()) {
        const t = await sample(w, arm, s.send[arm]);
        if (i >= p.warmup) samples[arm].push(t);
        await sleep(p.gapMs);
      }
    }
    await w.ask({ type: 'stop' });
  } finally {
    await s.close().catch(() => {});
    await w.stop();
  }
  const floor = summarize(samples.floor);
  const label: Record<LoopsArm, string> =
    store === 'redis'
      ? { oncelock: 'oncelock: wakeSingleton → the body starts', floor: 'floor: raw PUBLISH → message' }
      : { oncelock: 'oncelock: wakeSingleton → the body starts', floor: 'floor: raw NOTIFY → notification' };
  return (['oncelock', 'floor'] as const).map((arm) => {
    const sum = summarize(samples[arm]);
    return { store, arm, label: label[arm], ...sum, p50VsFloor: ratio(sum.p50, floor.p50) };
  });
}

export async function loops(ctx: Context): Promise<SuiteResult> {
  const p = sizes[ctx.profile.name];
  const wakes: WakeFigures[] = [];
  for (const [store, url] of [
    ['redis', ctx.redis.url],
    ['postgres', ctx.postgresUrl],
  ] as const) {
    wakes.push(...(await measureStore(ctx, store, url)));
    ctx.log(`  ${store}: wake-ups`);
  }
  const data: LoopsData = { wakes };
  return {
    id: 'loops',
    title: 'Loops: from a wake-up to the body starting',
    about:
      'One process leads a `singleton` whose body only notes when each pass starts (interval an hour, so every ' +
      'pass after the first comes from a wake-up); the bench process calls `wakeSingleton(backend, name)` and the ' +
      "time runs from just before that call to the pass's start in the leader, on one clock (the leader's offset " +
      'measured by ping). The floor, measured in the same run and interleaved sample by sample: the same leader ' +
      'process listens on a raw channel of the same store (ioredis `SUBSCRIBE`; pg `LISTEN`) and the bench sends ' +
      `a raw \`PUBLISH\` / \`NOTIFY\` from a client of its own. ${p.samples} samples per arm after ${p.warmup} to ` +
      `warm up, ${p.gapMs} ms apart; Redis is the bench's private server, PostgreSQL the shared one, both on loopback.`,
    tables: tables(data),
    charts: [],
    notes: [],
    data,
  };
}

function tables(d: LoopsData): Table[] {
  return (['redis', 'postgres'] as const).map((store) => ({
    caption: `${store}: wake-up to the body's start, the leader in another process`,
    head: ['arm', 'samples', 'p50', 'p99', 'mean', 'p50 vs floor'],
    rows: d.wakes
      .filter((f) => f.store === store)
      .map((f) => [f.label, String(f.n), ms(f.p50), ms(f.p99), ms(f.mean), times(f.p50VsFloor)]),
  }));
}
