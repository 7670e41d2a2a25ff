/**
 * How much each suite measures. `full` is what the committed results come from (a few minutes on
 * two cores); `quick` only proves, in CI, that every suite and every arm still runs: its figures
 * are too few to quote.
 */
export interface Profile {
  readonly name: 'full' | 'quick';
  /** Sequential acquire + release on a free key, for `ms` per round (rounds take as long for every arm). */
  readonly uncontended: { rounds: number; ms: number; warmupMs: number };
  /** Acquire + release loops over `keys` keys at once. */
  readonly throughput: { rounds: number; keys: number; ms: number };
  /**
   * Processes contending for one key, each holding it `holdMs`: one measurement per entry of
   * `runs` and arm. PostgreSQL runs only the entries with `postgres`.
   */
  readonly handoff: {
    rounds: number;
    ms: number;
    runs: ReadonlyArray<{ processes: number; holdMs: number; postgres: boolean }>;
  };
  /** `leases` leases held with auto-extension in one process. */
  readonly scale: { rounds: number; leases: number; ttl: number; windowMs: number };
  /** `queue.add` with and without the once guard. */
  readonly bullmq: { rounds: number; addsPerRound: number };
  /**
   * Permits of a key with `limit` holders: uncontended acquire + release (`rounds` of `ms`), then
   * `processes` contending, each holding `holdMs` (`handoffRounds` of `handoffMs` per arm and hold).
   */
  readonly limits: {
    rounds: number;
    ms: number;
    limit: number;
    processes: number;
    holdMs: readonly number[];
    handoffRounds: number;
    handoffMs: number;
  };
}

export const profiles: Record<Profile['name'], Profile> = {
  full: {
    name: 'full',
    uncontended: { rounds: 10, ms: 250, warmupMs: 250 },
    throughput: { rounds: 3, keys: 100, ms: 1500 },
    handoff: {
      rounds: 2,
      ms: 4000,
      runs: [
        { processes: 8, holdMs: 20, postgres: true },
        { processes: 8, holdMs: 200, postgres: false },
        // One waiter: the wake-up path alone, with no other waiter to race.
        { processes: 2, holdMs: 20, postgres: true },
      ],
    },
    scale: { rounds: 2, leases: 10_000, ttl: 6000, windowMs: 10_000 },
    bullmq: { rounds: 5, addsPerRound: 300 },
    limits: {
      rounds: 10,
      ms: 250,
      limit: 2,
      processes: 8,
      holdMs: [20, 200],
      handoffRounds: 2,
      handoffMs: 4000,
    },
  },
  quick: {
    name: 'quick',
    uncontended: { rounds: 2, ms: 40, warmupMs: 20 },
    throughput: { rounds: 1, keys: 100, ms: 200 },
    handoff: { rounds: 1, ms: 800, runs: [{ processes: 8, holdMs: 20, postgres: true }] },
    scale: { rounds: 1, leases: 500, ttl: 2400, windowMs: 1000 },
    bullmq: { rounds: 1, addsPerRound: 30 },
    limits: {
      rounds: 2,
      ms: 40,
      limit: 2,
      processes: 8,
      holdMs: [20, 200],
      handoffRounds: 1,
      handoffMs: 800,
    },
  },
};
