/** Where the torture keeps its counters: a store of its own, reached through a fault proxy. */
export type CounterSpec =
  | { kind: 'redis'; url: string }
  | { kind: 'postgres'; connectionString: string; schema: string };

/** What a counter holds after a run: its value and the id of every write it applied, in order. */
export interface CounterState {
  value: number;
  applied: string[];
}

/**
 * A counter per key, incremented by read-modify-write in two round trips, so that two writers
 * in the critical section at once can lose an update. With a fence, both halves check it: the
 * store refuses a fence older than the latest it has seen (`stale`). Without one (backends that
 * make no fences), nothing stops a lost update: the figures then show how many happened.
 */
export interface FencedCounter {
  /** Reads the value under `fence`; `null` if the fence is stale. */
  read(key: string, fence: number | null): Promise<number | null>;
  /** Writes `value` under `fence` with a unique `id`; `false` if the fence is stale. */
  write(key: string, fence: number | null, value: number, id: string): Promise<boolean>;
  /** Post-run: every key's value and applied write ids, in the order they were applied. */
  state(keys: readonly string[]): Promise<Map<string, CounterState>>;
  close(): Promise<void>;
}
