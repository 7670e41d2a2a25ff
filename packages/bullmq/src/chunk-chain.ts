import {
  CapabilityUnsupportedError,
  InvalidArgumentError,
  type IterationProgress,
  iterationProgress,
  type LockBackend,
  LockLostError,
  restartIteration,
  type StepContext,
} from '@oncelock/core';
import {
  callBackend,
  count,
  cursor,
  describeValue,
  duration,
  encodeProgress,
  freshProgress,
  func,
  invalid,
  readOptions,
} from '@oncelock/core/backend';
import type { Job, JobsOptions, Processor, Queue } from 'bullmq';
import { addSuccessor, chained, chainedOptions } from './chained.js';
import type { JobKey } from './job-key.js';
import { onceProcessor } from './once-processor.js';
import type { DataOf, JobOf, NameOf } from './once-queue.js';
import { at, type OnceJobOptions, PKG } from './options.js';
import type { AddResult, OnceCancelled } from './results.js';

/** How messages name a chain: `chunkChain "backfill"`. */
const label = (key: string) => `chunkChain "${key}"`;

/** What a chain's step gets besides its cursor: the job, the claim's lease, signal and fence, and a row counter. */
export interface ChainStepContext<DataType = unknown, NameType extends string = string> extends StepContext {
  /** The BullMQ job that runs this chunk. */
  readonly job: Job<DataType, unknown, NameType>;
}

/**
 * Options of {@link chunkChain}.
 *
 * @typeParam C - The cursor's type: a JSON value (an id, an ISO date, a composite key).
 */
export interface ChunkChainOptions<C, DataType, NameType extends string>
  extends Omit<OnceJobOptions<DataType, NameType>, 'mode' | 'onConflict' | 'key' | 'limit'> {
  /** The chain's key: one chain, and one saved cursor, per key. Default: the job name. */
  key?: JobKey<DataType, NameType>;
  /** Where a walk begins: the cursor of the first chunk, when nothing is saved (or after a restart). Required. */
  start: C;
  /**
   * Processes the chunk that begins at `cursor` and resolves to the cursor of the next one, or
   * `null` when there was nothing to do (caught up: the chain ends until the next trigger). A
   * chunk that did work returns a cursor past it, even if it was the last. Send `ctx.fence` with
   * the writes it makes. Required.
   */
  step: (cursor: C, ctx: ChainStepContext<DataType, NameType>) => Promise<C | null> | C | null;
  /** Milliseconds between chunks: each successor is added delayed by this much. Default 0. */
  pause?: number;
}

/** A chain job's return value: the chunk it ran. */
export interface ChainOutcome<C> {
  /** Where this job's chunk began: the cursor saved when the job started. */
  readonly cursor: C;
  /**
   * The cursor saved after the chunk (where the next job begins), or `null`: caught up, the chain
   * ends here. After a restart, the walk's `start`.
   */
  readonly next: C | null;
  /** Rows the step counted with `ctx.processed()`. */
  readonly rows: number;
  /** A restart came during the chunk: its result was dropped, and the walk begins again at `start`. */
  readonly restarted: boolean;
  /** The job that carries the chain on: the one this job added, or the one already waiting. */
  readonly successor: string | undefined;
}

/** What {@link chunkChain} returns: the processor for a worker, the trigger, and the walk's progress. */
export interface ChunkChain<Q extends Queue, C> {
  /** The processor of chain jobs: give it to a Worker, or call it from yours for the chain's job name. */
  readonly processor: Processor<DataOf<Q>, ChainOutcome<C> | OnceCancelled, NameOf<Q>>;
  /**
   * Starts the chain, or resumes it from its saved cursor (a periodic trigger calls this): adds a
   * job unless one already waits.
   *
   * @param name - The chain job's name; the key defaults to it.
   * @param data - The chain job's data, passed on to each successor.
   * @param opts - BullMQ's job options for this job; successors keep its `attempts`, `backoff`,
   *   `removeOnComplete` and `removeOnFail`.
   */
  trigger(name: NameOf<Q>, data: DataOf<Q>, opts?: JobsOptions): Promise<AddResult<JobOf<Q>>>;
  /** The walk's progress as saved (one round trip, from any process), or `null` before its first chunk. */
  progress(name: NameOf<Q>, data: DataOf<Q>): Promise<IterationProgress<C> | null>;
  /**
   * Begins the walk again at `start`: deletes its saved cursor. A chunk running meanwhile is
   * dropped when it ends (its job adds a successor that begins at `start`).
   */
  restart(name: NameOf<Q>, data: DataOf<Q>): Promise<void>;
  /** The key the chain's claims and cursor are kept under, for core's `iterationProgress()` and the CLI. */
  keyOf(name: NameOf<Q>, data: DataOf<Q>): string;
}

const chainOptions = {
  ...chainedOptions,
  start: cursor(),
  step: func<(cursor: unknown, ctx: ChainStepContext) => unknown>(
    'a function (cursor, ctx) => next cursor | null',
  ).required(),
  pause: duration().default(0),
};
const rowCount = count();
const saveOps = ['saveState', 'loadState', 'deleteState'] as const;

/**
 * The Chunkificator: walks a cursor through a table (or any ordered source) one chunk per job,
 * each job adding its successor, so two million rows take two thousand jobs and never two
 * million. The chain runs under `queuedAndRunning`: at most one job of a key runs and at most one
 * waits, and a periodic trigger that finds one waiting adds nothing.
 *
 * The cursor is kept in the lock store, saved after each chunk under the running claim's fence
 * (as core's `iterate()` does), and every job begins at the saved cursor. A worker killed
 * mid-chunk loses nothing: BullMQ runs its stalled job again, which begins at the last saved
 * cursor, so only the chunk in flight runs twice; a chunk whose cursor was saved never runs
 * again. See the README for why the cursor is not carried in the job's data.
 *
 * @param queue - The queue the chain's jobs go through; each chunk adds its successor here.
 * @param options - The policy (without `mode`, `onConflict` and `limit`), `start` and `step`
 *   (required), and `pause`.
 * @example
 * const backfill = chunkChain(queue, {
 *   backend, start: 0, pause: 100,
 *   step: async (after: number, { fence, processed }) => {
 *     const ids = await backfillUsers(after, 1000, fence); // ids > after, in order
 *     processed(ids.length);
 *     return ids.length ? ids.at(-1)! : null;
 *   },
 * });
 * new Worker(queue.name, backfill.processor, { connection });
 * await backfill.trigger('backfill-users', {});
 */
export function chunkChain<Q extends Queue, C>(
  queue: Q,
  options: ChunkChainOptions<C, DataOf<Q>, NameOf<Q>>,
): ChunkChain<Q, C> {
  const where = at('chunkChain()');
  const { start, step, pause, ...rest } = readOptions(options, chainOptions, where, true);
  const chain = chained(queue, rest, where);
  const { backend, queuedTtl } = chain.policy;
  refuseWithoutState(backend);
  if (pause >= queuedTtl)
    throw invalid(where, 'pause must be shorter than queuedTtl, or a waiting successor loses its claim');
  // Encoded once now, so that a cursor JSON cannot carry is refused before any job runs.
  encodeProgress(label('start'), freshProgress(start), PKG);
  const walk = new Walk(backend, start as C, step as ChunkChainOptions<C, unknown, string>['step']);

  const inner = onceProcessor<DataOf<Q>, Chunk<C>, NameOf<Q>>(async (job, _token, signal, claim) => {
    if (claim.key === null || !claim.lease)
      throw new InvalidArgumentError('chunkChain: the key function returned null: a chain needs a key', {
        pkg: PKG,
      });
    return walk.chunk(claim.key, claim.lease, job as Job, signal);
  }, chain.options);

  // Three declared parameters: BullMQ makes a cancellation signal only for processors that declare one.
  async function chunkChainJob(job: Job, token: string | undefined, signal?: AbortSignal) {
    const r = await inner(job as never, token, signal);
    if ('status' in r) return r;
    // Added once the running claim is given up, so the successor never finds its key busy. A
    // worker killed before this line loses nothing: its stalled job runs again from the saved cursor.
    const next =
      r.next === null ? undefined : await addSuccessor(chain, job, r.key, successorOptions(job, pause));
    return { cursor: r.cursor, next: r.next, rows: r.rows, restarted: r.restarted, successor: next };
  }

  const keyOf = (name: NameOf<Q>, data: DataOf<Q>) => {
    const key = chain.policy.keyOf(queue.qualifiedName, name, data);
    if (key === null) throw invalid(at('keyOf()'), 'the key function returned null: a chain needs a key');
    return key;
  };
  return {
    processor: chunkChainJob as unknown as ChunkChain<Q, C>['processor'],
    trigger: (name, data, opts) => chain.jobs.add(name, data, opts),
    progress: (name, data) => iterationProgress<C>(backend, keyOf(name, data)),
    restart: (name, data) => restartIteration(backend, keyOf(name, data)),
    keyOf,
  };
}

/** A successor keeps the trigger's retry and removal options, and waits `pause`. */
function successorOptions(job: Job, pause: number): JobsOptions {
  const { attempts, backoff, removeOnComplete, removeOnFail } = job.opts;
  const kept = Object.entries({ attempts, backoff, removeOnComplete, removeOnFail }).filter(
    ([, v]) => v !== undefined,
  );
  return { ...Object.fromEntries(kept), ...(pause > 0 && { delay: pause }) };
}

function refuseWithoutState(backend: LockBackend): void {
  const missing = saveOps.filter((op) => typeof backend[op] !== 'function');
  if (missing.length === 0) return;
  throw new CapabilityUnsupportedError(
    `chunkChain needs a backend that saves state (${missing.join('/')} missing): memoryBackend, redisBackend and postgresBackend do`,
    { backend: backend.name, pkg: PKG },
  );
}

/** What the guarded part of a chain job resolves: the chunk, and the key its successor is added under. */
interface Chunk<C> {
  readonly key: string;
  readonly cursor: C;
  readonly next: C | null;
  readonly rows: number;
  readonly restarted: boolean;
}

/** One chunk of the walk, run under the job's running claim. */
class Walk<C> {
  readonly #backend: LockBackend;
  readonly #start: C;
  readonly #step: ChunkChainOptions<C, unknown, string>['step'];

  constructor(backend: LockBackend, start: C, step: ChunkChainOptions<C, unknown, string>['step']) {
    this.#backend = backend;
    this.#start = start;
    this.#step = step;
  }

  /**
   * Loads the saved cursor, runs the step, and saves the next cursor under the claim's fence.
   * The chunk counts (is committed) once its save is accepted; a job that cannot save throws
   * `LockLostError` and commits nothing.
   */
  async chunk(key: string, lease: StepContext['lease'], job: Job, signal: AbortSignal): Promise<Chunk<C>> {
    const loaded = await this.#load(key);
    let p = loaded ?? freshProgress(this.#start);
    // Claims are held by job id, so an earlier attempt of this job (frozen, then run again here)
    // has the same owner: a save under this attempt's fence now refuses every later save of it.
    let stored = await this.#save(key, lease, p);
    const began = performance.now();
    let rows = 0;
    const ctx: ChainStepContext = {
      job,
      signal,
      lease,
      get fence() {
        return lease.fence;
      },
      processed(n: number) {
        rows += rowCount.read(n, 'rows', { pkg: PKG, call: 'ctx.processed()' }) as number;
      },
    };
    const next = await this.#step(p.cursor, ctx);
    if (next === undefined)
      throw new InvalidArgumentError(
        `chunkChain "${key}": step must resolve to the next cursor or null, got ${describeValue(next)}`,
        { pkg: PKG },
      );
    // A process frozen past its claim's TTL stops here, before it saves anything.
    lease.assertHeld();
    // Look again just before saving: a restart deletes the saved state.
    const seen = await this.#load(key);
    if (seen === null) {
      stored = await this.#save(key, lease, freshProgress(this.#start));
      return { key, cursor: p.cursor, next: this.#start, rows, restarted: true };
    }
    if (encodeProgress(label(key), seen, PKG).text !== stored)
      throw lost(key, 'another job saved the cursor meanwhile');
    const done = {
      rows: p.rows + rows,
      updatedAt: Date.now(),
      workMs: p.workMs + (performance.now() - began),
    };
    const cursor = p.cursor;
    if (next === null) {
      // Caught up: saved once when it happens (or rows were counted), not on every empty chunk.
      if (!p.caughtUp || rows > 0) await this.#save(key, lease, { ...p, ...done, caughtUp: true });
      return { key, cursor, next: null, rows, restarted: false };
    }
    p = { ...p, ...done, cursor: next, chunks: p.chunks + 1, caughtUp: false };
    await this.#save(key, lease, p);
    return { key, cursor, next, rows, restarted: false };
  }

  #load(key: string): Promise<IterationProgress<C> | null> {
    return iterationProgress<C>(this.#backend, key);
  }

  /** Saves `p` under the claim; resolves the saved text, or throws `LockLostError` if refused. */
  async #save(key: string, lease: StepContext['lease'], p: IterationProgress<C>): Promise<string> {
    const backend = this.#backend;
    const value = encodeProgress(label(key), p, PKG).text;
    const request = { key, owner: lease.token, value };
    const fenced = backend.guarantees.fencing ? { ...request, fence: lease.fence } : request;
    if (await callBackend(backend, 'saveState', () => backend.saveState!(fenced))) return value;
    throw lost(key, 'the store refused the cursor (the claim ended, or a later attempt saved)');
  }
}

const lost = (key: string, why: string) => new LockLostError(key, why, { pkg: PKG });
