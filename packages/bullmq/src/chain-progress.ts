import { InvalidArgumentError, type IterationProgress } from '@oncelock/core';
import { describeValue, MAX_STATE_LENGTH } from '@oncelock/core/backend';
import { PKG } from './options.js';

// A chain saves its progress in the format of core's `iterate()`, so that core's
// `iterationProgress()` reads it and `restartIteration()` clears it. The fields are written in
// one fixed order: a saved text read back and written again is the same text, which is how a
// job tells that nobody else saved meanwhile (see chunk-chain.ts).

/** The progress of a walk that begins now at `start`. */
export function freshProgress<C>(start: C): IterationProgress<C> {
  const t = Date.now();
  return {
    cursor: start,
    chunks: 0,
    rows: 0,
    caughtUp: false,
    startedAt: t,
    updatedAt: t,
    workMs: 0,
    rowsPerSecond: undefined,
  };
}

/**
 * `p` as the text kept in the store. A cursor JSON cannot carry, or a text over the store's
 * limit, is an `InvalidArgumentError`.
 *
 * @param key - The chain's lock key, for messages.
 * @param p - The progress to save.
 */
export function encodeProgress<C>(key: string, p: IterationProgress<C>): string {
  const { cursor, chunks, rows, caughtUp, startedAt, updatedAt, workMs } = p;
  let text: string | undefined;
  try {
    text = JSON.stringify({ v: 1, cursor, chunks, rows, caughtUp, startedAt, updatedAt, workMs });
  } catch {
    // Reported below with the other cursors JSON cannot carry.
  }
  if (text === undefined || JSON.stringify(cursor) === undefined)
    throw new InvalidArgumentError(
      `chunkChain "${key}": a cursor must be a JSON value (a number, a string, an array or a plain object), got ${describeValue(cursor)}`,
      { pkg: PKG },
    );
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_STATE_LENGTH)
    throw new InvalidArgumentError(
      `chunkChain "${key}": the cursor makes a saved state of ${bytes} bytes; the limit is ${MAX_STATE_LENGTH}: keep a key, not the rows`,
      { pkg: PKG },
    );
  return text;
}
