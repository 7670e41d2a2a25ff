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

/** The contenders of each store, floor first, then the breakdown arms. */
export function storeGroups(ctx: Context): Group[] {
  return [
    { store: 'redis', specs: redisArms(ctx.redis.url) },
    { store: 'postgres', specs: postgresArms(ctx.postgresUrl) },
    { store: 'memory', specs: memoryArms() },
  ];
}
