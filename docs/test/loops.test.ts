// The code of the Loops page does what the page says, on the in-memory backend.
import { iterationProgress, memoryBackend } from '@oncelock/core';
import { expect, it } from 'vitest';
import {
  backfillAgain,
  onUpload,
  report,
  startArchive,
  startBackfill,
  startRenderer,
} from '../snippets/loops.js';

async function until(check: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

it('renders a backlog in passes of 100, then renders new pages as soon as it is woken', async () => {
  const backend = memoryBackend();
  let pending = 250;
  const passes: number[] = [];
  const loop = startRenderer(backend, {
    async renderPending(n) {
      const done = Math.min(n, pending);
      pending -= done;
      passes.push(done);
      return done;
    },
  });
  expect(await until(() => passes.length === 3)).toBe(true);
  expect(passes).toEqual([100, 100, 50]);
  const upload = async () => {
    pending += 30;
  };
  expect(await onUpload(backend, upload)).toEqual({ status: 202 });
  // The interval is 30 s: only the wake-up can have run this pass.
  expect(await until(() => pending === 0)).toBe(true);
  expect(passes).toEqual([100, 100, 50, 30]);
  await loop.stop();
  await backend.close();
});

it('backfills sparse ids in chunks, reports progress, and walks again on request', async () => {
  const backend = memoryBackend();
  const ids = Array.from({ length: 2500 }, (_, i) => i * i);
  const done: number[] = [];
  const walk = startBackfill(backend, {
    async idsAfter(after, limit) {
      return ids.filter((id) => id > after).slice(0, limit);
    },
    async backfill(chunk) {
      done.push(...chunk);
    },
  });
  expect(await until(async () => (await walk.progress())?.caughtUp === true)).toBe(true);
  expect(done).toEqual(ids.slice(1));
  expect(await report(backend)).toMatch(/^after id 6245001: 2499 rows, \d+ rows\/s$/);
  await backfillAgain(backend);
  expect(await until(() => done.length === 2 * 2499)).toBe(true);
  await walk.stop();
  await backend.close();
});

it('archives one day per chunk up to yesterday', async () => {
  const backend = memoryBackend();
  const days: string[] = [];
  const walk = startArchive(backend, {
    async archiveDay(day) {
      days.push(day);
      return 1;
    },
  });
  const today = new Date().toISOString().slice(0, 10);
  expect(
    await until(async () => (await iterationProgress(backend, 'archive-events'))?.caughtUp === true),
  ).toBe(true);
  expect(days[0]).toBe('2024-01-01');
  expect(days.at(-1)! < today).toBe(true);
  expect(new Set(days).size).toBe(days.length);
  await walk.stop();
  await backend.close();
});
