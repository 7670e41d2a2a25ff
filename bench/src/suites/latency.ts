import type { ArmSpec, LockArm } from '../arms/arm.js';
import { type Context, type Group, type Store, storeGroups } from '../context.js';
import { interleave } from '../interleave.js';
import { ratio, type Summary, summarize } from '../stats.js';

/** Latency and rate of one arm, and how it compares with its store's floor. */
export interface ArmFigures extends Summary {
  readonly arm: string;
  readonly label: string;
  readonly floor: boolean;
  readonly breakdown: boolean;
  readonly opsPerSec: number;
  /** p50 over the floor's p50: above 1 is slower than the floor. */
  readonly p50VsFloor: number;
  /** The floor's ops/s over this arm's: above 1 is slower than the floor. */
  readonly opsVsFloor: number;
  /** A server counter's increase per operation (see {@link Counter}), where the store has one. */
  readonly counterPerOp?: number;
}

/** What one arm measured in one round: the round's ops and how long it took. */
export interface Round {
  readonly samples: number[];
  readonly ops: number;
  readonly ms: number;
}

/** A server-wide counter read before and after each round, to show what an operation costs the store. */
export interface Counter {
  read(): Promise<number>;
  close(): Promise<void>;
}

export interface MeasureOptions {
  readonly rounds: number;
  /** Include the breakdown arms (parts of oncelock measured alone): for every store, or for those it says. */
  readonly breakdown: boolean | ((store: Store) => boolean);
  /** Measures one round of one arm; round -1 is a warm-up, not recorded. */
  readonly round: (arm: LockArm, spec: ArmSpec, i: number) => Promise<Round>;
  readonly counter?: (store: Store) => Promise<Counter | undefined>;
}

/** For each store: makes its arms, runs them in interleaved rounds, and summarises. */
export async function measureStores(ctx: Context, o: MeasureOptions): Promise<Record<string, ArmFigures[]>> {
  const out: Record<string, ArmFigures[]> = {};
  for (const group of storeGroups(ctx)) out[group.store] = await measureGroup(ctx, group, o);
  return out;
}

async function measureGroup(ctx: Context, group: Group, o: MeasureOptions): Promise<ArmFigures[]> {
  const breakdown = typeof o.breakdown === 'function' ? o.breakdown(group.store) : o.breakdown;
  const specs = group.specs.filter((s) => !s.handoffFloor && (breakdown || !s.breakdown));
  const arms = new Map<ArmSpec, LockArm>();
  const counter = await o.counter?.(group.store);
  try {
    for (const s of specs) arms.set(s, await s.make());
    for (const [s, arm] of arms) await o.round(arm, s, -1);
    const results = new Map<ArmSpec, { rounds: Round[]; counted: number }>(
      specs.map((s) => [s, { rounds: [], counted: 0 }]),
    );
    await interleave(specs, o.rounds, async (s, i) => {
      const before = await counter?.read();
      const r = await o.round(arms.get(s) as LockArm, s, i);
      const after = await counter?.read();
      const acc = results.get(s);
      acc?.rounds.push(r);
      if (acc && before !== undefined && after !== undefined) acc.counted += after - before;
    });
    ctx.log(`  ${group.store}: ${specs.map((s) => s.id).join(', ')}`);
    return figures(specs, results, counter !== undefined);
  } finally {
    for (const arm of arms.values()) await arm.close().catch(() => {});
    await counter?.close();
  }
}

function figures(
  specs: readonly ArmSpec[],
  results: Map<ArmSpec, { rounds: Round[]; counted: number }>,
  counted: boolean,
): ArmFigures[] {
  const raw = specs.map((s) => {
    const { rounds, counted: c } = results.get(s) ?? { rounds: [], counted: 0 };
    const ops = rounds.reduce((a, r) => a + r.ops, 0);
    const time = rounds.reduce((a, r) => a + r.ms, 0);
    return {
      s,
      summary: summarize(rounds.flatMap((r) => r.samples)),
      ops,
      opsPerSec: (ops / time) * 1000,
      c,
    };
  });
  const floor = raw.find((r) => r.s.floor);
  return raw.map(({ s, summary, ops, opsPerSec, c }) => ({
    arm: s.id,
    label: s.label,
    floor: s.floor === true,
    breakdown: s.breakdown === true,
    ...summary,
    opsPerSec,
    p50VsFloor: ratio(summary.p50, floor?.summary.p50),
    opsVsFloor: ratio(floor?.opsPerSec, opsPerSec),
    ...(counted ? { counterPerOp: c / ops } : {}),
  }));
}
