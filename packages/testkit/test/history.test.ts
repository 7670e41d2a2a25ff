import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, lease, memoryBackend } from '@oncelock/core';
import { spawnWorker, stopAllWorkers } from '@oncelock/testkit/faults';
import {
  checkHistory,
  FencedStore,
  type HistoryEvent,
  type HoldEvent,
  historyNow,
  historyRecorder,
  readHistory,
  type WriteEvent,
} from '@oncelock/testkit/history';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** What the history-worker fixture sends. */
type Said = { type: 'holding' | 'done' };

const hold = (
  worker: string,
  start: number,
  end: number,
  fence: number | null = null,
  key = 'k',
): HoldEvent => ({
  type: 'hold',
  worker,
  key,
  fence,
  start,
  end,
});
const write = (
  worker: string,
  start: number,
  end: number,
  fence: number | null,
  accepted = true,
  key = 'k',
): WriteEvent => ({
  type: 'write',
  worker,
  key,
  fence,
  start,
  end,
  accepted,
});

describe('checkHistory on synthetic histories', () => {
  it('passes a clean serial history in both modes', () => {
    const events = [
      hold('a', 0, 10, 1),
      write('a', 2, 4, 1),
      hold('b', 10, 20, 2),
      write('b', 12, 14, 2),
      write('b', 15, 16, 2),
    ];
    for (const fenced of [false, true]) {
      const report = checkHistory(events, { fenced });
      expect(report).toMatchObject({ ok: true, holdOverlaps: [], writeOverlaps: [], fenceRegressions: [] });
      expect(report.stats).toEqual({ holds: 2, writes: 3, accepted: 3, rejected: 0, keys: 1, workers: 2 });
    }
  });

  it('finds two accepted writes of different workers that overlap', () => {
    const a = write('a', 0, 10, null);
    const b = write('b', 5, 6, null);
    const report = checkHistory([b, a, write('c', 10, 11, null)], { fenced: false });
    expect(report.ok).toBe(false);
    expect(report.writeOverlaps).toEqual([{ key: 'k', a, b }]);
  });

  it('ignores rejected writes, touching ends, one worker overlapping itself, and other keys', () => {
    const events = [
      write('a', 0, 10, null),
      write('b', 5, 6, null, false),
      write('c', 10, 12, null),
      write('c', 11, 13, null),
      write('d', 0, 10, null, true, 'other'),
    ];
    const report = checkHistory(events, { fenced: false });
    expect(report.writeOverlaps).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.stats).toMatchObject({ accepted: 4, rejected: 1, keys: 2 });
  });

  it('reports overlapping holds without failing', () => {
    const a = hold('a', 0, 10, 1);
    const b = hold('b', 9, 20, 2);
    const report = checkHistory([a, b, write('a', 1, 2, 1), write('b', 11, 12, 2)], { fenced: true });
    expect(report.holdOverlaps).toEqual([{ key: 'k', a, b }]);
    expect(report.ok).toBe(true);
  });

  it('finds a fence that went down, and fails only in fenced mode', () => {
    const earlier = write('a', 0, 1, 5);
    const later = write('b', 2, 3, 3);
    const fenced = checkHistory([earlier, later], { fenced: true });
    expect(fenced.ok).toBe(false);
    expect(fenced.fenceRegressions).toEqual([{ key: 'k', earlier, later, reason: 'decreased' }]);
    const plain = checkHistory([earlier, later], { fenced: false });
    expect(plain.ok).toBe(true);
    expect(plain.fenceRegressions).toHaveLength(1);
  });

  it('finds one fence used by two workers, in sequence or at once; one worker may repeat its own', () => {
    const serial = [write('a', 0, 1, 4), write('a', 2, 3, 4), write('b', 4, 5, 4)];
    const report = checkHistory(serial, { fenced: true });
    expect(report.fenceRegressions).toEqual([
      { key: 'k', earlier: serial[0], later: serial[2], reason: 'repeated' },
    ]);
    const together = [write('a', 0, 10, 7), write('b', 5, 6, 7)];
    expect(checkHistory(together, { fenced: true }).fenceRegressions).toEqual([
      { key: 'k', earlier: together[0], later: together[1], reason: 'repeated' },
    ]);
  });

  it('in fenced mode, overlapping writes with different fences are listed but pass', () => {
    const report = checkHistory([write('a', 0, 10, 1), write('b', 5, 6, 2)], { fenced: true });
    expect(report.writeOverlaps).toHaveLength(1);
    expect(report.ok).toBe(true);
  });

  it('in fenced mode, an accepted write without a fence fails', () => {
    const later = write('a', 0, 1, null);
    const report = checkHistory([later], { fenced: true });
    expect(report.fenceRegressions).toEqual([{ key: 'k', later, reason: 'missing' }]);
    expect(report.ok).toBe(false);
  });

  it('agrees with a brute-force check on random histories', () => {
    const event = fc.record({
      worker: fc.constantFrom('a', 'b', 'c'),
      key: fc.constantFrom('k', 'j'),
      start: fc.integer({ min: 0, max: 50 }),
      length: fc.integer({ min: 0, max: 10 }),
      fence: fc.integer({ min: 1, max: 6 }),
      accepted: fc.boolean(),
      isWrite: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 25 }), (raw) => {
        const events: HistoryEvent[] = raw.map((e) =>
          e.isWrite
            ? write(e.worker, e.start, e.start + e.length, e.fence, e.accepted, e.key)
            : hold(e.worker, e.start, e.start + e.length, e.fence, e.key),
        );
        const report = checkHistory(events, { fenced: true });
        const shares = (x: HistoryEvent, y: HistoryEvent) =>
          x !== y && x.key === y.key && x.worker !== y.worker && x.start < y.end && y.start < x.end;
        const accepted = events.filter((e): e is WriteEvent => e.type === 'write' && e.accepted);
        const holds = events.filter((e) => e.type === 'hold');
        const pairs = (list: HistoryEvent[]) =>
          list.flatMap((x, i) => list.slice(i + 1).filter((y) => shares(x, y))).length;
        expect(report.holdOverlaps).toHaveLength(pairs(holds));
        expect(report.writeOverlaps).toHaveLength(pairs(accepted));
        // A later write is wrong if any write that ended before it began outranks it, or has its
        // fence and came from another worker; two workers' overlapping writes must differ in fence.
        const wrongLater = accepted.filter((y) =>
          accepted.some(
            (x) =>
              x.key === y.key &&
              x.end <= y.start &&
              (x.fence! > y.fence! || (x.fence === y.fence && x.worker !== y.worker)),
          ),
        );
        const sameFenceTogether = accepted.flatMap((x, i) =>
          accepted.slice(i + 1).filter((y) => shares(x, y) && x.fence === y.fence),
        );
        const sequential = report.fenceRegressions.filter((r) => !shares(r.earlier!, r.later));
        expect(new Set(sequential.map((r) => r.later))).toEqual(new Set(wrongLater));
        expect(report.fenceRegressions.length - sequential.length).toBe(sameFenceTogether.length);
        expect(report.ok).toBe(wrongLater.length === 0 && sameFenceTogether.length === 0);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses malformed events and options with InvalidArgumentError', () => {
    expect(() => checkHistory([hold('a', 5, 4)], { fenced: false })).toThrow(InvalidArgumentError);
    expect(() =>
      checkHistory([{ ...write('a', 0, 1, 1), accepted: 'yes' } as never], { fenced: false }),
    ).toThrow(InvalidArgumentError);
    expect(() => checkHistory([hold('a', 0, 1, 1.5)], { fenced: true })).toThrow(InvalidArgumentError);
    expect(() => checkHistory([], {} as never)).toThrow(InvalidArgumentError);
    expect(() => historyRecorder('', 'a')).toThrow(InvalidArgumentError);
  });
});

describe('FencedStore', () => {
  it('applies a write whose fence is at least the latest for its key, and refuses an older one', () => {
    const store = new FencedStore<string>();
    expect(store.write('k', 2, 'two')).toBe(true);
    expect(store.write('k', 2, 'two again')).toBe(true);
    expect(store.write('k', 1, 'stale')).toBe(false);
    expect(store.get('k')).toBe('two again');
    expect(store.latest('k')).toBe(2);
    expect(store.write('j', 1, 'other key')).toBe(true);
    expect(() => store.write('k', -1, 'bad')).toThrow(InvalidArgumentError);
  });
});

describe('history files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'oncelock-history-'));
  });
  afterAll(async () => {
    await stopAllWorkers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a recorder appends lines that readHistory returns; a malformed line is an error', () => {
    const file = join(dir, 'roundtrip.jsonl');
    const recorder = historyRecorder(file, 'me');
    const t = recorder.now();
    recorder.hold('k', 3, t, t + 1);
    recorder.write('k', undefined, t, t + 1, false);
    expect(readHistory(file)).toEqual([hold('me', t, t + 1, 3), write('me', t, t + 1, null, false)]);
    expect(Math.abs(recorder.now() - Date.now())).toBeLessThan(1_000);
    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, '{"type":"hold"\n');
    expect(() => readHistory(broken)).toThrow(InvalidArgumentError);
  });

  it('a paused holder outlives its lease: its hold overlaps the next one, and the fenced store refuses its write', async () => {
    const backend = memoryBackend();
    const store = new FencedStore<string>();
    const file = join(dir, 'paused.jsonl');
    const a = historyRecorder(file, 'a');
    const b = historyRecorder(file, 'b');

    const first = await lease(backend, 'k', { ttl: 50, autoExtend: false });
    const heldA = a.now();
    await new Promise((resolve) => setTimeout(resolve, 120)); // a pause longer than the TTL
    const second = await lease(backend, 'k', { ttl: 1_000, autoExtend: false });
    const heldB = b.now();
    let start = b.now();
    b.write('k', second.fence, start, b.now(), store.write('k', second.fence, 'from b'));
    start = a.now();
    a.write('k', first.fence, start, a.now(), store.write('k', first.fence, 'from a (stale)'));
    a.hold('k', first.fence, heldA, a.now());
    await second.release();
    b.hold('k', second.fence, heldB, b.now());
    await backend.close();

    const report = checkHistory(readHistory(file), { fenced: true });
    expect(report.stats).toMatchObject({ writes: 2, accepted: 1, rejected: 1 });
    expect(report.holdOverlaps).toHaveLength(1);
    expect(report.ok).toBe(true);
    expect(store.get('k')).toBe('from b');
  });

  it('historyNow agrees across processes: each reading of a child falls between the parent sending and hearing back', async () => {
    const script = new URL('./fixtures/clock-worker.mjs', import.meta.url);
    // Started together, under the start-up contention in which timeOrigin was once seen 18 ms off.
    const children = Array.from({ length: 8 }, () => spawnWorker(script));
    await Promise.all(children.map((c) => c.next((m) => m === 'ready', 30_000)));
    // Each process finds its offset to the wall clock at a Date.now() tick edge bounded to within
    // 0.05 ms, so two processes may disagree by up to that much (a CI run once saw 5 µs): the
    // check is for errors of milliseconds, like the 18 ms once seen with timeOrigin.
    const slack = 0.05;
    const misses: number[] = [];
    for (let round = 0; round < 25; round++) {
      for (const child of children) {
        const sent = historyNow();
        await child.send('now?');
        const theirs = await child.next<number>((m) => typeof m === 'number', 5_000);
        const back = historyNow();
        if (theirs < sent - slack || theirs > back + slack)
          misses.push(theirs < sent ? theirs - sent : theirs - back);
      }
    }
    expect(misses).toEqual([]);
    await Promise.all(children.map((c) => c.stop()));
  });

  it('checks histories written by several processes: a real mutex passes, no lock is caught', async () => {
    const script = new URL('./fixtures/history-worker.mjs', import.meta.url);
    const lockedFile = join(dir, 'locked.jsonl');
    const lockDir = join(dir, 'mutex');
    const locked = ['a', 'b', 'c'].map((name) =>
      spawnWorker(script, ['locked', lockedFile, name, lockDir, '8']),
    );
    await Promise.all(locked.map((w) => w.next<Said>((m) => m.type === 'done', 30_000)));
    const clean = checkHistory(readHistory(lockedFile), { fenced: false });
    expect(clean.stats).toMatchObject({ holds: 24, writes: 24, workers: 3 });
    expect(clean.holdOverlaps).toEqual([]);
    expect(clean.ok).toBe(true);

    const unlockedFile = join(dir, 'unlocked.jsonl');
    const unlocked = ['x', 'y'].map((name) => spawnWorker(script, ['unlocked', unlockedFile, name]));
    // Both are inside their "critical section" before either leaves it: an overlap for certain.
    await Promise.all(unlocked.map((w) => w.next<Said>((m) => m.type === 'holding', 30_000)));
    await Promise.all(unlocked.map((w) => w.send({ type: 'release' })));
    await Promise.all(unlocked.map((w) => w.next<Said>((m) => m.type === 'done', 30_000)));
    const caught = checkHistory(readHistory(unlockedFile), { fenced: false });
    expect(caught.ok).toBe(false);
    expect(caught.writeOverlaps).toHaveLength(1);
    expect(caught.holdOverlaps).toHaveLength(1);
  });
});
