import type { ArmSpec, LockArm } from '../arms/arm.js';
import { permitArms } from '../arms/permits.js';
import type { Context } from '../context.js';
import { VS_REFERENCE, vsReferenceRow } from '../format.js';
import { interleave } from '../interleave.js';
import type { SuiteResult, Table } from '../report/types.js';
import { againstFloor, type VsFloor } from '../stats.js';
import { startWorkers, stopAll } from '../workers.js';
import { contendStore, type HandoffFigures, handoffTable } from './handoff.js';
import { sequential } from './uncontended.js';

type Store = 'redis' | 'postgres';

/** One arm's uncontended acquire + release of a permit. */
/** Against its store's reference arm: redis-semaphore; on PostgreSQL a plain lease. */
export interface PermitFigures extends VsFloor {
  readonly store: Store;
  readonly arm: string;
  readonly label: string;
}

export interface LimitsData {
  readonly limit: number;
  readonly uncontended: PermitFigures[];
  readonly handoff: HandoffFigures[];
}

/** Acquire + release of a free permit, arms of each store interleaved round by round. */
async function uncontendedPermits(ctx: Context, store: Store, specs: readonly ArmSpec[]) {
  const p = ctx.profile.limits;
  const arms = new Map<ArmSpec, LockArm>();
  const samples = new Map<ArmSpec, { s: number[]; ops: number; ms: number }>();
  try {
    for (const s of specs) {
      const arm = await s.make();
      arms.set(s, arm);
      samples.set(s, { s: [], ops: 0, ms: 0 });
      await sequential(arm, `bench:limits:${s.id}`, p.ms); // warm-up: connections, scripts
    }
    await interleave(specs, p.rounds, async (s) => {
      const r = await sequential(arms.get(s) as LockArm, `bench:limits:${s.id}`, p.ms);
      const acc = samples.get(s) as { s: number[]; ops: number; ms: number };
      acc.s.push(...r.samples);
      acc.ops += r.ops;
      acc.ms += r.ms;
    });
  } finally {
    for (const arm of arms.values()) await arm.close().catch(() => {});
  }
  const figures = againstFloor(
    specs.map((s) => {
      const acc = samples.get(s) as { s: number[]; ops: number; ms: number };
      return { floor: s.floor, samples: acc.s, ops: acc.ops, ms: acc.ms };
    }),
  );
  return specs.map((s, i): PermitFigures => ({ store, arm: s.id, label: s.label, ...figures[i]! }));
}

export async function limits(ctx: Context): Promise<SuiteResult> {
  const p = ctx.profile.limits;
  const uncontended: PermitFigures[] = [];
  const stores = [
    { store: 'redis' as const, url: ctx.redis.url },
    { store: 'postgres' as const, url: ctx.postgresUrl },
  ];
  for (const { store, url } of stores) {
    uncontended.push(...(await uncontendedPermits(ctx, store, permitArms(store, url, p.limit))));
    ctx.log(`  ${store}: uncontended`);
  }
  const workers = await startWorkers(p.processes, new URL('./handoff-worker.ts', import.meta.url));
  let handoff: HandoffFigures[];
  try {
    handoff = await contendStore(ctx, workers, {
      store: 'redis',
      url: ctx.redis.url,
      arms: permitArms('redis', ctx.redis.url, p.limit),
      shapes: p.holdMs.map((holdMs) => ({ processes: p.processes, holdMs })),
      rounds: p.handoffRounds,
      ms: p.handoffMs,
      limit: p.limit,
    });
    ctx.log('  redis: handoff');
    // On PostgreSQL a permit's handoff against a plain lease's, on the same workers, interleaved
    // (the lease arm holds alone, so the pairing of releases and grants is that of a lock).
    handoff.push(
      ...(await contendStore(ctx, workers, {
        store: 'postgres',
        url: ctx.postgresUrl,
        arms: permitArms('postgres', ctx.postgresUrl, p.limit),
        shapes: p.holdMs.slice(0, 1).map((holdMs) => ({ processes: p.processes, holdMs })),
        rounds: p.handoffRounds,
        ms: p.handoffMs,
        limit: p.limit,
      })),
    );
    ctx.log('  postgres: handoff');
    await Promise.all(workers.map((w) => w.ask({ type: 'close' })));
  } finally {
    await stopAll(workers);
  }
  const data: LimitsData = { limit: p.limit, uncontended, handoff };
  const notes: string[] = [];
  for (const f of handoff) {
    if (f.overlaps > 0)
      notes.push(
        `${f.store} ${f.label}, hold ${f.holdMs} ms: ${f.overlaps} grant(s) while ${p.limit} permits were held.`,
      );
    if (f.errors > 0)
      notes.push(
        `${f.store} ${f.label}, hold ${f.holdMs} ms: ${f.errors} call(s) failed, first: ${f.firstError}`,
      );
  }
  return {
    id: 'limits',
    title: 'Concurrency limits: permits of a key',
    about:
      `Permits of one key with limit ${p.limit}. Uncontended: one caller takes a free permit and gives it back, ` +
      `${p.rounds} rounds of ${p.ms} ms per arm, interleaved; on Redis against redis-semaphore's \`Semaphore\`, ` +
      'on PostgreSQL (advisory mode) against a plain oncelock lease on the same backend. Handoff: ' +
      `${p.processes} processes contend for the ${p.limit} permits, each holding one ${p.holdMs.join(' or ')} ms and then ` +
      'stepping aside as long; a handoff is the time from a release to the next grant to another process ' +
      '(releases handed on oldest first), measured as in the handoff suite; on PostgreSQL (advisory mode, ' +
      `hold ${p.holdMs[0]} ms) against a plain lease contended by as many processes, interleaved. Redis commands come from ` +
      '`INFO commandstats` on the private `redis-server`, reset before each run. redis-semaphore waits by polling ' +
      `every 10 ms at its defaults. ${p.handoffRounds} round(s) of ${p.handoffMs} ms per arm and hold, interleaved.`,
    tables: tables(data),
    charts: [],
    notes,
    data,
  };
}

function tables(d: LimitsData): Table[] {
  const stores = [...new Set(d.uncontended.map((f) => f.store))];
  const latency = stores.map((store) => ({
    caption: `${store}: uncontended acquire + release of a permit`,
    head: VS_REFERENCE,
    rows: d.uncontended.filter((f) => f.store === store).map(vsReferenceRow),
  }));
  const shapes = [...new Set(d.handoff.map((f) => `${f.store}|${f.holdMs}`))];
  const handoff = shapes.map((shape) => {
    const rows = d.handoff.filter((f) => `${f.store}|${f.holdMs}` === shape);
    const { store, processes, holdMs } = rows[0] as HandoffFigures;
    const caption = `${store}, ${processes} processes, limit ${d.limit}, hold ${holdMs} ms`;
    return handoffTable(caption, rows, store === 'redis' ? 'redis-semaphore' : 'lease');
  });
  return [...latency, ...handoff];
}
