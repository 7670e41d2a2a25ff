// Work loops without a queue: one process of the fleet runs the loop.
// #region singleton
import { type LockBackend, singleton } from '@oncelock/core';

export interface Pages {
  /** Renders up to `n` pending pages; each write carries the fence. */
  renderPending(
    n: number,
    lease: { fence: number; signal: AbortSignal },
  ): Promise<number>;
}

export function startRenderer(backend: LockBackend, pages: Pages) {
  const loop = singleton(
    backend,
    'pdf-pages',
    async ({ signal, fence }) => {
      // signal fires if the lease is lost mid-pass: stop writing
      const done = await pages.renderPending(100, { fence, signal });
      return done === 100 ? 'more' : 'idle'; // 'more': run again now
    },
    { interval: 30_000, ttl: 15_000 },
  );
  // Finish the pass, release the lease (another process takes
  // over at once), then exit.
  process.once('SIGTERM', () => {
    void loop.stop().then(() => process.exit(0));
  });
  return loop;
}

// #endregion singleton

// #region wake
import { wakeSingleton } from '@oncelock/core';

/** An HTTP handler: store the work, then wake the leader. */
export async function onUpload(
  backend: LockBackend,
  save: () => Promise<void>,
): Promise<{ status: number }> {
  await save();
  await wakeSingleton(backend, 'pdf-pages'); // from any process
  return { status: 202 };
}

// #endregion wake

// #region iterate-ids
import { iterate } from '@oncelock/core';

export interface Users {
  /** Up to `limit` ids greater than `after`, in order. */
  idsAfter(after: number, limit: number): Promise<number[]>;
  backfill(ids: number[], fence: number): Promise<void>;
}

export function startBackfill(backend: LockBackend, users: Users) {
  return iterate(backend, 'backfill-users', {
    start: 0,
    step: async (after: number, { fence, processed }) => {
      const ids = await users.idsAfter(after, 1000);
      if (ids.length === 0) return null; // caught up
      await users.backfill(ids, fence);
      processed(ids.length);
      return ids.at(-1)!; // gaps in the ids cost nothing
    },
    pause: 200, // spare the database between chunks
    interval: 60_000, // once caught up, look again every minute
  });
}
// #endregion iterate-ids

// #region iterate-dates
export interface Events {
  /** Archives one day of events (YYYY-MM-DD); resolves the rows. */
  archiveDay(day: string, fence: number): Promise<number>;
}

const nextDay = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000)
    .toISOString()
    .slice(0, 10);

export function startArchive(backend: LockBackend, events: Events) {
  return iterate(backend, 'archive-events', {
    start: '2024-01-01',
    step: async (day: string, { fence, processed }) => {
      const today = new Date().toISOString().slice(0, 10);
      if (day >= today) return null; // today is not over yet
      processed(await events.archiveDay(day, fence));
      return nextDay(day);
    },
  });
}

// #endregion iterate-dates

// #region progress
import { iterationProgress, restartIteration } from '@oncelock/core';

export async function report(backend: LockBackend) {
  const p = await iterationProgress<number>(backend, 'backfill-users');
  if (!p) return 'not started';
  const pace = p.rowsPerSecond?.toFixed(0) ?? '?';
  return `after id ${p.cursor}: ${p.rows} rows, ${pace} rows/s`;
}

/** Walk every user again from id 0 (after a bug fix, say). */
export const backfillAgain = (backend: LockBackend) =>
  restartIteration(backend, 'backfill-users');
// #endregion progress
