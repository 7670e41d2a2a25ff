import { onceQueue } from '@oncelock/bullmq';
import { redisBackend } from '@oncelock/redis';
import { Queue } from 'bullmq';
import type { Context } from '../context.js';
import { count, ms, times } from '../format.js';
import { interleave } from '../interleave.js';
import type { SuiteResult } from '../report/types.js';
import { ratio, type Summary, summarize } from '../stats.js';

interface Producer {
  readonly id: string;
  readonly label: string;
  /** Adds job `i`, whose key no other job has. */
  add(i: string): Promise<void>;
  close(): Promise<void>;
}

export interface BullmqFigures extends Summary {
  readonly arm: string;
  readonly label: string;
  readonly case: 'new' | 'duplicate';
  readonly opsPerSec: number;
  /** p50 over plain `queue.add`'s p50 (new jobs) or over BullMQ deduplication's (duplicates). */
  readonly p50VsBaseline: number;
}

function queue(ctx: Context, name: string): Queue {
  return new Queue(name, { connection: { url: ctx.redis.url } });
}

function producers(ctx: Context): Producer[] {
  const plain = queue(ctx, 'bench-plain');
  const dedup = queue(ctx, 'bench-dedup');
  const guarded = queue(ctx, 'bench-once');
  // The claims live on the same Redis as the queue, as most deployments would have it.
  const backend = redisBackend({ url: ctx.redis.url });
  const once = onceQueue(guarded, {
    backend,
    mode: 'untilDone',
    key: (_name, data: { i: string }) => data.i,
  });
  return [
    {
      id: 'plain',
      label: 'queue.add (no guard)',
      add: async (i) => void (await plain.add('job', { i })),
      close: () => plain.close(),
    },
    {
      id: 'bullmq-dedup',
      label: "queue.add with BullMQ's deduplication",
      add: async (i) => void (await dedup.add('job', { i }, { deduplication: { id: i } })),
      close: () => dedup.close(),
    },
    {
      id: 'oncelock',
      label: 'oncelock onceQueue(queue).add',
      async add(i) {
        const r = await once.add('job', { i });
        if (r.status !== 'added' && r.status !== 'cancelled')
          throw new Error(`unexpected add result ${r.status}`);
      },
      async close() {
        await guarded.close();
        await backend.close();
      },
    },
  ];
}

/** `n` sequential adds; with `duplicate`, every add repeats a key that is already queued. */
async function adds(p: Producer, prefix: string, n: number, duplicate: boolean) {
  const samples: number[] = [];
  const began = performance.now();
  for (let j = 0; j < n; j++) {
    const i = duplicate ? `${prefix}:dup` : `${prefix}:${j}`;
    const t0 = performance.now();
    await p.add(i);
    samples.push(performance.now() - t0);
  }
  return { samples, ms: performance.now() - began };
}

export async function bullmq(ctx: Context): Promise<SuiteResult> {
  const p = ctx.profile.bullmq;
  const arms = producers(ctx);
  const cases = ['new', 'duplicate'] as const;
  const runs = arms.flatMap((arm) => cases.map((c) => ({ arm, c })));
  const measured = new Map(runs.map((r) => [r, { samples: [] as number[], ms: 0 }]));
  try {
    for (const r of runs) await adds(r.arm, `warm:${r.c}`, 20, r.c === 'duplicate');
    await interleave(runs, p.rounds, async (r, round) => {
      const m = await adds(r.arm, `${r.c}:${round}`, p.addsPerRound, r.c === 'duplicate');
      const acc = measured.get(r);
      acc?.samples.push(...m.samples);
      if (acc) acc.ms += m.ms;
    });
  } finally {
    for (const a of arms) await a.close().catch(() => {});
  }
  const data: BullmqFigures[] = runs.map((r) => {
    const m = measured.get(r) as { samples: number[]; ms: number };
    return {
      arm: r.arm.id,
      label: r.arm.label,
      case: r.c,
      ...summarize(m.samples),
      opsPerSec: (m.samples.length / m.ms) * 1000,
      p50VsBaseline: Number.NaN,
    };
  });
  const withRatios = data.map((f) => {
    const base = data.find(
      (b) => b.case === f.case && b.arm === (f.case === 'new' ? 'plain' : 'bullmq-dedup'),
    );
    return { ...f, p50VsBaseline: ratio(f.p50, base?.p50) };
  });
  return {
    id: 'bullmq',
    title: 'BullMQ: adding a job through the once guard',
    about:
      `${p.addsPerRound} sequential adds per round, ${p.rounds} rounds, interleaved, to three queues on the private ` +
      "Redis: a plain `queue.add`; `queue.add` with BullMQ's own `deduplication` option; and oncelock's " +
      '`onceQueue(queue, { mode: "untilDone" }).add`, whose claims live on the same Redis. "new" adds a job ' +
      'whose key is free; "duplicate" repeats a key whose job is still queued, so nothing is added (the plain ' +
      'queue adds it again: it has no way to tell).',
    tables: cases.map((c) => ({
      caption: c === 'new' ? 'a new job' : 'a duplicate of a queued job',
      head: ['arm', 'p50', 'p99', 'adds/s', c === 'new' ? 'p50 vs plain add' : 'p50 vs BullMQ deduplication'],
      rows: withRatios
        .filter((f) => f.case === c)
        .map((f) => [f.label, ms(f.p50), ms(f.p99), count(f.opsPerSec), times(f.p50VsBaseline)]),
    })),
    charts: [
      {
        file: 'bullmq-add.svg',
        title: 'BullMQ add of a new job: p50 latency (shorter is faster)',
        unit: 'ms',
        bars: withRatios
          .filter((f) => f.case === 'new')
          .map((f) => ({ label: f.label, value: f.p50, text: ms(f.p50) })),
      },
    ],
    notes: [],
    data: withRatios,
  };
}
