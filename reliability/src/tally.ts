/** What one worker process did, sent to the parent after every section. */
export interface Tally {
  /** Leases granted (critical sections entered). */
  sections: number;
  /** Increments the counter store applied and answered. */
  accepted: number;
  /** Reads or writes the store refused for a stale fence. */
  stale: number;
  /** Writes sent whose answer never came (resolved after the run from the store). */
  unknown: number;
  /** Failed acquires by error code (wait timeouts, store errors while a fault lasts). */
  acquireErrors: Record<string, number>;
  /** Sections cut short before their write, by code (`ONCELOCK_LOST`, `STORE_ERROR`). */
  sectionErrors: Record<string, number>;
  releaseErrors: Record<string, number>;
}

export function emptyTally(): Tally {
  return {
    sections: 0,
    accepted: 0,
    stale: 0,
    unknown: 0,
    acquireErrors: {},
    sectionErrors: {},
    releaseErrors: {},
  };
}

/** Adds `b` into `a`. */
export function addTally(a: Tally, b: Tally): void {
  a.sections += b.sections;
  a.accepted += b.accepted;
  a.stale += b.stale;
  a.unknown += b.unknown;
  for (const field of ['acquireErrors', 'sectionErrors', 'releaseErrors'] as const) {
    for (const [code, n] of Object.entries(b[field])) a[field][code] = (a[field][code] ?? 0) + n;
  }
}

/**
 * Logged by a worker just before it sends a write. An intent with no write in the history had no
 * answer (a cut connection, a kill mid-write): whether it landed is read from the counter store.
 */
export interface WriteIntent {
  id: string;
  worker: string;
  key: string;
  fence: number | null;
  /** The start of the write's history event: with `worker`, it names that event. */
  start: number;
}
