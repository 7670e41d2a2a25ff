import { call } from '../call.js';
import { now } from '../clock.js';
import type { LockBackend } from '../contract.js';
import { InvalidArgumentError } from '../errors.js';
import type { Lease } from '../lease.js';
import { describe } from '../options/describe.js';
import { count, cursor, duration, func, signal, ttl } from '../options/kinds.js';
import { readOptions } from '../options/read.js';
import { checkBackend, checkKey } from '../validate.js';
import { needs } from './needs.js';
import {
  decodeProgress,
  encodeProgress,
  freshProgress,
  type IterationProgress,
  labelOf,
} from './progress.js';
import { Loop, type PassContext, type Singleton } from './singleton.js';
import { topicOf } from './wake.js';

/** What a step gets besides its cursor: the pass's lease, signal and fence, and a row counter. */
export interface StepContext extends PassContext {
  /**
   * Adds `rows` to the walk's row count, for progress (`rows`, `rowsPerSecond`).
   *
   * @param rows - Rows this step processed: a whole number, 0 or more.
   */
  processed(rows: number): void;
}

/**
 * Options of {@link iterate}.
 *
 * @typeParam C - The cursor's type: a JSON value (an id, an ISO date, a composite key).
 */
export interface IterateOptions<C> {
  /** Where a walk begins: the cursor of the first chunk, when nothing is saved (or after a restart). Required. */
  start: C;
  /**
   * Processes the chunk that begins at `cursor` and resolves to the cursor of the next one, or
   * `null` when there was nothing to do (caught up). A chunk that did work returns a cursor past
   * it, even if it was the last: the next step finds nothing and returns `null`. Required.
   */
  step: (cursor: C, ctx: StepContext) => Promise<C | null> | C | null;
  /** Milliseconds to sleep between chunks, to spare the database. Default 0. */
  pause?: number;
  /** Milliseconds to sleep once caught up, unless woken. Default 60,000. */
  interval?: number;
  /** TTL of the loop's lease, in milliseconds (see `singleton`). Default 15,000. */
  ttl?: number;
  /** Stops the loop when it aborts, as `stop()` does. */
  signal?: AbortSignal;
  /** Called with what a step threw; default a process warning (see `singleton`). */
  onError?: (error: unknown) => void;
}

/**
 * A running `iterate()` loop.
 *
 * @typeParam C - The cursor's type.
 */
export interface Iteration<C> extends Singleton {
  /**
   * Begins the walk again at `start`: on the leader in this process at its next save (no race);
   * elsewhere through {@link restartIteration}.
   */
  restart(): Promise<void>;
  /** The walk's progress as saved in the store, or `null` before the first save. */
  progress(): Promise<IterationProgress<C> | null>;
}

const spec = {
  start: cursor(),
  step: func<(cursor: unknown, ctx: StepContext) => unknown>().required(),
  pause: duration().default(0),
  interval: duration({ min: 1 }).default(60_000),
  ttl: ttl().default(15_000),
  signal: signal(),
  onError: func<(error: unknown) => void>(),
};
const at = { pkg: '@oncelock/core', call: 'iterate()' };
const rowCount = count();

/** The walk as this leader knows it: its progress, and the saved text it last wrote or read. */
interface Walk<C> {
  progress: IterationProgress<C>;
  stored: string | null;
}

/**
 * A singleton loop (see `singleton`) that walks a cursor through a table or any ordered source,
 * one chunk per pass: `step(cursor)` processes a chunk and resolves to the next cursor, which is
 * saved in the store (under the lease's fence, so a stale leader cannot move it back) before the
 * next chunk. A leader killed mid-walk is taken over by another process, which goes on from the
 * last saved cursor: a chunk may run twice (the one in flight when the leader died), never be
 * skipped. When `step` resolves `null` the walk is caught up: it sleeps `interval` or until woken
 * and then goes on from the same cursor (new rows come after it).
 *
 * A backend without saved state (Redlock, Keyv) is refused with `CapabilityUnsupportedError`,
 * bad input with `InvalidArgumentError`, both at once.
 *
 * @typeParam C - The cursor's type: any JSON value; steps get it back through JSON.
 * @param backend - The store the fleet shares, which also keeps the cursor.
 * @param name - The loop's name: its lease's key, its wake-ups' topic and its saved state's key.
 * @param options - `start` and `step` (required), `pause`, `interval`, `ttl`, `signal`, `onError`.
 * @example
 * const walk = iterate(backend, 'backfill-audit', {
 *   start: 0,
 *   step: async (after: number, { fence, processed }) => {
 *     const ids = await copyChunk(after, 1000, fence); // ids > after, in order
 *     processed(ids.length);
 *     return ids.length ? ids.at(-1)! : null;
 *   },
 *   pause: 100,
 * });
 */
export function iterate<C>(backend: LockBackend, name: string, options: IterateOptions<C>): Iteration<C> {
  checkBackend(backend);
  checkKey(name, 'name');
  needs(backend, ['saveState', 'loadState', 'deleteState'], 'iterate()');
  const o = readOptions(options, spec, at, true);
  const start = encodeProgress(labelOf(name), freshProgress(o.start as C)).progress.cursor;
  const step = o.step as IterateOptions<C>['step'];
  const fencing = backend.guarantees.fencing;
  let walk: Walk<C> | undefined;
  let term: Lease | undefined;
  let restartHere = false;

  const load = () => call(backend, 'loadState', () => backend.loadState!(name));

  async function save(ctx: PassContext, progress: IterationProgress<C>): Promise<boolean> {
    const { text, progress: saved } = encodeProgress(labelOf(name), progress);
    const request = { key: name, owner: ctx.lease.token, value: text };
    const ok = await call(backend, 'saveState', () =>
      backend.saveState!(fencing ? { ...request, fence: ctx.lease.fence } : request),
    );
    if (ok) walk = { progress: saved, stored: text };
    else {
      // Refused: this process no longer holds the lease (or a newer holder saved). Step down;
      // the pass counts as lost and whoever leads next reads the cursor afresh.
      term = undefined;
      await ctx.lease.release().catch(() => false);
    }
    return ok;
  }

  async function pass(ctx: PassContext): Promise<'more' | 'idle'> {
    if (ctx.lease !== term || !walk) {
      // A new term: go on from what the last leader saved.
      const saved = await load();
      walk = saved
        ? { progress: decodeProgress<C>(labelOf(name), saved.value), stored: saved.value }
        : { progress: freshProgress(start), stored: null };
      term = ctx.lease;
    }
    const begin = now();
    let rows = 0;
    const stepCtx: StepContext = {
      signal: ctx.signal,
      get fence() {
        return ctx.fence;
      },
      lease: ctx.lease,
      processed(n: number) {
        rows += rowCount.read(n, 'rows', { pkg: '@oncelock/core', call: 'ctx.processed()' })!;
      },
    };
    const next = await step(walk.progress.cursor, stepCtx);
    if (next === undefined)
      throw new InvalidArgumentError(
        `loop "${name}": step must resolve to the next cursor or null, got ${describe(next)}`,
      );
    // Look again just before saving: a restart deletes the saved state (see restartIteration).
    const seen = (await load())?.value ?? null;
    if (restartHere || (seen === null && walk.stored !== null)) {
      restartHere = false;
      return (await save(ctx, freshProgress(start))) ? 'more' : 'idle';
    }
    if (seen !== walk.stored) {
      // Someone else saved: only a newer holder can, so this one steps down.
      term = undefined;
      await ctx.lease.release().catch(() => false);
      return 'idle';
    }
    const p = walk.progress;
    const done = { rows: p.rows + rows, updatedAt: Date.now(), workMs: p.workMs + (now() - begin) };
    if (next === null) {
      // Caught up: saved once when it happens (or rows were counted), not on every idle pass.
      if (!p.caughtUp || rows > 0) await save(ctx, { ...p, ...done, caughtUp: true });
      return 'idle';
    }
    const saved = await save(ctx, { ...p, ...done, cursor: next, chunks: p.chunks + 1, caughtUp: false });
    return saved ? 'more' : 'idle';
  }

  const { interval, ttl: leaseTtl, pause, signal: stopSignal, onError } = o;
  const loop = new Loop(backend, name, pass, { interval, ttl: leaseTtl, pause, signal: stopSignal, onError });
  return Object.assign(loop, {
    async restart(): Promise<void> {
      if (loop.state !== 'leading') return restartIteration(backend, name);
      restartHere = true;
      await loop.wake();
    },
    progress: () => iterationProgress<C>(backend, name),
  }) as Iteration<C>;
}

/**
 * Asks the walk `name` to begin again at its `start`, from any process: deletes its saved
 * cursor and wakes its leader. The leader looks at the saved state just before it saves each
 * chunk: it drops the chunk in flight and begins again at `start`. Race rule: a delete that
 * lands in the one round trip between that look and the save is undone by the save; then
 * `iterationProgress()` shows the walk's `startedAt` unchanged, and asking again restarts it.
 * Without a leader, the next leader begins at `start`. Without `notify`, the leader notices at
 * its next pass (within `interval`). A backend without saved state refuses with
 * `CapabilityUnsupportedError`.
 *
 * @param backend - The store the walk runs on.
 * @param name - The walk's name.
 */
export async function restartIteration(backend: LockBackend, name: string): Promise<void> {
  checkBackend(backend);
  checkKey(name, 'name');
  needs(backend, ['deleteState'], 'restartIteration()');
  await call(backend, 'deleteState', () => backend.deleteState!(name));
  if (backend.notify) await call(backend, 'notify', () => backend.notify!(topicOf(name)));
}

/**
 * The progress of the walk `name` as last saved (cursor, chunks, rows, rows per second, times),
 * from any process; `null` if nothing is saved. One round trip; it never waits for the leader.
 * A backend without saved state refuses with `CapabilityUnsupportedError`.
 *
 * @typeParam C - The cursor's type.
 * @param backend - The store the walk runs on.
 * @param name - The walk's name.
 */
export async function iterationProgress<C = unknown>(
  backend: LockBackend,
  name: string,
): Promise<IterationProgress<C> | null> {
  checkBackend(backend);
  checkKey(name, 'name');
  needs(backend, ['loadState'], 'iterationProgress()');
  const saved = await call(backend, 'loadState', () => backend.loadState!(name));
  return saved ? decodeProgress<C>(labelOf(name), saved.value) : null;
}
