import type { ArmSpec, LockArm } from '../arms/arm.js';
import { type Context, type Group, runnable, storeGroups } from '../context.js';
import { interleave } from '../interleave.js';
import { ratio, type Summary, summarize } from '../stats.js';

/** Latency and rate of one arm, and how it compares with its store's floor. */
export interface ArmFigures extends Summary {
  readonly arm: string;
  readonly label: string;
  readonly opsPerSec: number;
  /** p50 over the floor's p50: above 1 is slower than the floor. */
  readonly p50VsFloor: number;
  /** The floor's ops/s over this arm's: above 1 is slower than the floor. */
  readonly opsVsFloor: number;
}

/** What one arm measured in one round: the round's ops and how long it took. */
export interface Round {
  readonly samples: number[];
  readonly ops: number;
  readonly ms: number;
}

/**
 * For each store: makes its arms, runs `round` for each in interleaved rounds, and summarises.
 * `round(arm, spec, i)` measures one round of one arm; round -1 is a warm-up, not recorded.
 */
export async function measureStores(
  ctx: Context,
  notes: string[],
  rounds: number,
  round: (arm: LockArm, spec: ArmSpec, i: number) => Promise<Round>,
): Promise<Record<string, ArmFigures[]>> {
  const out: Record<string, ArmFigures[]> = {};
  for (const group of await storeGroups(ctx)) {
    out[group.store] = await measureGroup(ctx, group, notes, rounds, round);
  }
  return out;
}

async function measureGroup(
  ctx: Context,
  group: Group,
  notes: string[],
  rounds: number,
  round: (arm: LockArm, spec: ArmSpec, i: number) => Promise<Round>,
): Promise<ArmFigures[]> {
  // The blocking Postgres arm only differs from the floor while waiting: it belongs to the handoff suite.
  const specs = runnable(group.specs, notes, group.store).filter((s) => s.id !== 'raw-blocking');
  const arms = new Map<ArmSpec, LockArm>();
  try {
    for (const s of specs) arms.set(s, await (s.make as () => Promise<LockArm>)());
    for (const [s, arm] of arms) await round(arm, s, -1);
    const results = new Map<ArmSpec, Round[]>(specs.map((s) => [s, []]));
    await interleave(specs, rounds, async (s, i) => {
      results.get(s)?.push(await round(arms.get(s) as LockArm, s, i));
    });
    ctx.log(`  ${group.store}: ${specs.map((s) => s.id).join(', ')}`);
    return figures(specs, results);
  } finally {
    for (const arm of arms.values()) await arm.close().catch(() => {});
  }
}

function figures(specs: readonly ArmSpec[], results: Map<ArmSpec, Round[]>): ArmFigures[] {
  const raw = specs.map((s) => {
    const rs = results.get(s) ?? [];
    const ops = rs.reduce((a, r) => a + r.ops, 0);
    const time = rs.reduce((a, r) => a + r.ms, 0);
    return { s, summary: summarize(rs.flatMap((r) => r.samples)), opsPerSec: (ops / time) * 1000 };
  });
  const floor = raw.find((r) => r.s.floor);
  return raw.map(({ s, summary, opsPerSec }) => ({
    arm: s.id,
    label: s.label,
    ...summary,
    opsPerSec,
    p50VsFloor: ratio(summary.p50, floor?.summary.p50),
    opsVsFloor: ratio(floor?.opsPerSec, opsPerSec),
  }));
}
