/** What the handoff suite asks a contender process to do. */
export interface HandoffRequest {
  readonly type: 'run';
  readonly store: 'redis' | 'postgres';
  readonly arm: string;
  readonly key: string;
  readonly ttl: number;
  readonly holdMs: number;
  readonly ms: number;
  /** Permits of the key, for the limits suite: absent for a plain lock. */
  readonly limit?: number;
}

/** What one contender process saw: wall-clock times (its own clock) of each grant and release. */
export interface Contention {
  readonly pid: number;
  readonly grants: number[];
  readonly releases: number[];
  /** Milliseconds spent inside acquire calls, waiting or being granted. */
  readonly waitedMs: number;
  /** Messages of calls that failed. */
  readonly errors: string[];
}
