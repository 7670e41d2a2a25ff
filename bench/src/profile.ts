/**
 * How much each suite measures. `full` is what the committed results come from (a few minutes on
 * two cores); `quick` only proves, in CI, that every suite and every arm still runs: its figures
 * are too few to quote.
 */
export interface Profile {
  readonly name: 'full' | 'quick';
  /** Sequential acquire + release on a free key. */
  readonly uncontended: { rounds: number; opsPerRound: number; warmupOps: number };
  /** Acquire + release loops over `keys` keys at once. */
  readonly throughput: { rounds: number; keys: number; ms: number };
  /** `workers` processes contending for one key, each holding it `holdMs`. */
  readonly handoff: { rounds: number; workers: number; ms: number; holdsMs: readonly number[] };
  /** `leases` leases held with auto-extension in one process. */
  readonly scale: { rounds: number; leases: number; ttl: number; windowMs: number };
  /** `queue.add` with and without the once guard. */
  readonly bullmq: { rounds: number; addsPerRound: number };
}

export const profiles: Record<Profile['name'], Profile> = {
  full: {
    name: 'full',
    uncontended: { rounds: 10, opsPerRound: 400, warmupOps: 300 },
    throughput: { rounds: 3, keys: 100, ms: 1500 },
    handoff: { rounds: 3, workers: 8, ms: 5000, holdsMs: [20, 200] },
    scale: { rounds: 2, leases: 10_000, ttl: 3000, windowMs: 8000 },
    bullmq: { rounds: 5, addsPerRound: 300 },
  },
  quick: {
    name: 'quick',
    uncontended: { rounds: 2, opsPerRound: 40, warmupOps: 20 },
    throughput: { rounds: 1, keys: 100, ms: 200 },
    handoff: { rounds: 1, workers: 8, ms: 800, holdsMs: [20] },
    scale: { rounds: 1, leases: 500, ttl: 2400, windowMs: 1000 },
    bullmq: { rounds: 1, addsPerRound: 30 },
  },
};
