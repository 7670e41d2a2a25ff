/** A lock held by an arm; `release` may return synchronously (async-mutex does). */
export interface Held {
  release(): unknown;
}

/**
 * One contender in a comparison: oncelock or an alternative a user could pick instead, driven
 * through the same two calls so that every arm does the same work.
 */
export interface LockArm {
  /**
   * Takes `key` for `ttl` ms. `waitMs` 0 tries once; more keeps trying that long, each library
   * with its own waiting strategy at its default settings. Resolves `null` if not acquired.
   */
  acquire(key: string, ttl: number, waitMs: number): Promise<Held | null>;
  close(): Promise<void>;
}

/** How an arm is made, by id: workers in other processes make their own from the id alone. */
export interface ArmSpec {
  /** Stable id, used in results.json and by worker processes. */
  readonly id: string;
  /** Name shown in tables and charts. */
  readonly label: string;
  /** The baseline the other arms of its group are divided by. */
  readonly floor?: boolean;
  /** Can wait for a held key (raw floors cannot: they have no waiting strategy). */
  readonly waits: boolean;
  /**
   * Not a contender but a part of oncelock measured alone, to show where a gap to the floor
   * comes from. Only the uncontended suite runs these.
   */
  readonly breakdown?: boolean;
  /**
   * The least a handoff can cost here, written straight against the store: the handoff suite's
   * reference. It only differs from the floor while waiting, so the latency suites skip it.
   */
  readonly handoffFloor?: boolean;
  readonly make: () => Promise<LockArm>;
}
