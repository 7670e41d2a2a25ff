import { MAX_STATE_LENGTH } from '../contract.js';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../options/describe.js';

/**
 * How far a walk of `iterate()` has come, as saved in the store after each chunk.
 *
 * @typeParam C - The cursor's type (what JSON makes of it: a `Date` comes back as its ISO string).
 */
export interface IterationProgress<C = unknown> {
  /** Where the next chunk begins. */
  readonly cursor: C;
  /** Chunks done since the walk began at `start`. */
  readonly chunks: number;
  /** Rows the steps reported with `ctx.processed()`, since the walk began at `start`. */
  readonly rows: number;
  /** The last step found nothing to do: the walk waits for its interval or a wake-up. */
  readonly caughtUp: boolean;
  /** Wall-clock time (epoch ms) the walk began at `start`. */
  readonly startedAt: number;
  /** Wall-clock time (epoch ms) of the last save. */
  readonly updatedAt: number;
  /** Milliseconds spent in steps and their saves, pauses and idle time left out. */
  readonly workMs: number;
  /** `rows` per second of `workMs`: the walk's pace while it works; `undefined` before a row is counted. */
  readonly rowsPerSecond: number | undefined;
}

/** What is saved: the progress without what is computed from it, tagged with a version. */
type Saved = Omit<IterationProgress, 'rowsPerSecond'> & { readonly v: 1 };

/**
 * How messages name a loop: `loop "audit"`.
 *
 * @param name - The loop's name.
 */
export const labelOf = (name: string): string => `loop "${name}"`;

/** The progress of a walk that begins now at `start`. */
export function freshProgress<C>(start: C): IterationProgress<C> {
  const t = Date.now();
  return withPace({
    cursor: start,
    chunks: 0,
    rows: 0,
    caughtUp: false,
    startedAt: t,
    updatedAt: t,
    workMs: 0,
  });
}

/**
 * `progress` as the JSON kept in the store, and the progress as it will be read back (its
 * cursor through JSON). A cursor JSON cannot carry, or a value over `MAX_STATE_LENGTH` bytes,
 * is an `InvalidArgumentError`. The fields are written in one fixed order, so progress read
 * back and encoded again is the same text (BullMQ's chunk chain tells by it that nobody else
 * saved meanwhile).
 *
 * @param label - What walks, for messages: `loop "audit"`, `chunkChain "backfill"`.
 * @param progress - What to save.
 * @param pkg - The package whose call failed, for messages. Default `@oncelock/core`.
 */
export function encodeProgress<C>(
  label: string,
  progress: IterationProgress<C>,
  pkg?: string,
): { text: string; progress: IterationProgress<C> } {
  const { cursor, chunks, rows, caughtUp, startedAt, updatedAt, workMs } = progress;
  const saved: Saved = { v: 1, cursor, chunks, rows, caughtUp, startedAt, updatedAt, workMs };
  let text: string | undefined;
  let cursorText: string | undefined;
  try {
    cursorText = JSON.stringify(progress.cursor);
    text = JSON.stringify(saved);
  } catch (error) {
    throw badCursor(label, progress.cursor, pkg, error);
  }
  if (cursorText === undefined || text === undefined) throw badCursor(label, progress.cursor, pkg);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_STATE_LENGTH)
    throw new InvalidArgumentError(
      `${label}: the cursor makes a saved state of ${bytes} bytes; the limit is ${MAX_STATE_LENGTH}: keep a key, not the rows`,
      { pkg },
    );
  return { text, progress: { ...progress, cursor: JSON.parse(cursorText) as C } };
}

/**
 * The progress kept in `text`, or an `InvalidArgumentError` if it is not an iteration's (another
 * program saved under the loop's name): `restartIteration()` clears it.
 *
 * @param label - What walks, for messages: `loop "audit"`.
 * @param text - The saved value.
 * @param pkg - The package whose call failed, for messages. Default `@oncelock/core`.
 */
export function decodeProgress<C>(label: string, text: string, pkg?: string): IterationProgress<C> {
  let saved: Partial<Saved> | undefined;
  try {
    saved = JSON.parse(text) as Partial<Saved>;
  } catch {
    // Reported below, with the rest of what is not ours.
  }
  if (saved?.v !== 1 || !('cursor' in saved) || typeof saved.chunks !== 'number')
    throw new InvalidArgumentError(
      `${label}: the state saved under this name is not an iteration's progress; restartIteration() clears it`,
      { pkg },
    );
  const { v: _, ...progress } = saved as Saved;
  return withPace(progress as Omit<IterationProgress<C>, 'rowsPerSecond'>);
}

function withPace<C>(p: Omit<IterationProgress<C>, 'rowsPerSecond'>): IterationProgress<C> {
  return { ...p, rowsPerSecond: p.rows > 0 && p.workMs > 0 ? (p.rows * 1000) / p.workMs : undefined };
}

function badCursor(label: string, cursor: unknown, pkg?: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `${label}: a cursor must be a JSON value (a number, a string, an array or a plain object), got ${describe(cursor)}`,
    { pkg, cause },
  );
}
