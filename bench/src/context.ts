import type { ArmSpec } from './arms/arm.js';
import { memoryArms } from './arms/memory.js';
import { postgresArms } from './arms/postgres.js';
import { redisArms } from './arms/redis.js';
import type { Profile } from './profile.js';
import type { BenchRedis } from './stores.js';

/** What every suite gets from the runner. */
export interface Context {
  readonly profile: Profile;
  readonly redis: BenchRedis;
  readonly postgresUrl: string;
  readonly log: (line: string) => void;
}

export type Store = 'redis' | 'postgres' | 'memory';

export interface Group {
  readonly store: Store;
  readonly specs: readonly ArmSpec[];
}

/** The contenders of each store, floor first. */
export async function storeGroups(ctx: Context): Promise<Group[]> {
  return [
    { store: 'redis', specs: await redisArms(ctx.redis.url) },
    { store: 'postgres', specs: await postgresArms(ctx.postgresUrl) },
    { store: 'memory', specs: memoryArms() },
  ];
}

/** The arms of `specs` that can run here, and a note for each that cannot. */
export function runnable(specs: readonly ArmSpec[], notes: string[], store: string): ArmSpec[] {
  for (const s of specs)
    if (!s.make) notes.push(`${store}: ${s.label} was not measured (its package is not built).`);
  return specs.filter((s) => s.make);
}
