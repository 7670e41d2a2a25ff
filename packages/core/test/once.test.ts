import {
  InvalidArgumentError,
  type LockBackend,
  LockNotAcquiredError,
  memoryBackend,
  once,
  onEvent,
  type RunClaim,
  type StartResult,
  WaitTimeoutError,
} from '@oncelock/core';
import { queuedSlot } from '@oncelock/core/backend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let backend: LockBackend;
beforeEach(() => {
  backend = memoryBackend();
});
afterEach(() => backend.close());

const started = async (r: Promise<StartResult>): Promise<RunClaim> => {
  const result = await r;
  if (result.status !== 'started') throw new Error(`expected started, got ${result.status}`);
  return result.run;
};

describe('once modes, as a queue adapter drives them', () => {
  it('untilDone: one queued-or-running; the next may enqueue only after it finishes', async () => {
    const g = once(backend, { key: 'scan', mode: 'untilDone' });
    expect(await g.enqueue('job-1')).toEqual({ status: 'claimed' });
    const dup = await g.enqueue('job-2');
    expect(dup).toMatchObject({ status: 'cancelled', reason: 'locked', holder: { owner: 'job-1' } });
    const run = await started(g.start('job-1'));
    expect((await g.enqueue('job-3')).status).toBe('cancelled');
    await run.finish();
    expect((await g.enqueue('job-3')).status).toBe('claimed');
  });

  it('untilRunning: the claim ends when the job starts, so a running job can enqueue its successor', async () => {
    const g = once(backend, { key: 'dedupe', mode: 'untilRunning' });
    expect((await g.enqueue('job-1')).status).toBe('claimed');
    expect((await g.enqueue('job-2')).status).toBe('cancelled');
    const run = await started(g.start('job-1'));
    expect(run.lease).toBeUndefined();
    expect((await g.enqueue('job-2')).status).toBe('claimed');
    expect(await backend.inspect(queuedSlot('dedupe'))).toMatchObject({ owner: 'job-2' });
  });

  it('whileRunning: any number may queue, never two run together', async () => {
    const g = once(backend, { key: 'run', mode: 'whileRunning' });
    expect((await g.enqueue('a')).status).toBe('claimed');
    expect((await g.enqueue('b')).status).toBe('claimed');
    const run = await started(g.start('a'));
    expect(await g.start('b')).toMatchObject({ status: 'cancelled', holder: { owner: 'a' } });
    await run.finish();
    await (await started(g.start('b'))).finish();
  });

  it('queuedAndRunning: one waiting plus one running; the successor is busy until its predecessor ends', async () => {
    const g = once(backend, { key: 'drain', mode: 'queuedAndRunning' });
    expect((await g.enqueue('j1')).status).toBe('claimed');
    const run1 = await started(g.start('j1'));
    // j1 runs: the queued slot is free, so j1 (or a trigger) can enqueue exactly one successor.
    expect((await g.enqueue('j2')).status).toBe('claimed');
    expect((await g.enqueue('j3')).status).toBe('cancelled');
    expect(await g.start('j2')).toMatchObject({ status: 'busy', holder: { owner: 'j1' } });
    // Still busy: j2 keeps its queued slot, so no third job sneaks in.
    expect((await g.enqueue('j3')).status).toBe('cancelled');
    await run1.finish();
    const run2 = await started(g.start('j2'));
    expect((await g.enqueue('j3')).status).toBe('claimed');
    await run2.finish();
  });

  it('the running claim is the enqueue claim, handed over by job id, with the same fence', async () => {
    const g = once(backend, { key: 'handover', mode: 'untilDone' });
    await g.enqueue('job-7');
    const before = await backend.inspect('handover');
    const run = await started(g.start('job-7'));
    expect(run.lease?.token).toBe('job-7');
    expect(run.lease?.fence).toBe(before?.fence);
  });

  it('abandon frees every claim of a removed job', async () => {
    const g = once(backend, { key: 'gone', mode: 'queuedAndRunning' });
    await g.enqueue('j1');
    await g.abandon('j1');
    expect(await backend.inspect(queuedSlot('gone'))).toBeNull();
    expect((await g.enqueue('j2')).status).toBe('claimed');
  });

  it('onConflict throw and wait', async () => {
    const thrower = once(backend, { key: 'c', mode: 'untilDone', onConflict: 'throw' });
    await thrower.enqueue('a');
    await expect(thrower.enqueue('b')).rejects.toBeInstanceOf(LockNotAcquiredError);
    const waiter = once(backend, { key: 'c', mode: 'untilDone', onConflict: 'wait', wait: 100 });
    await expect(waiter.enqueue('b')).rejects.toBeInstanceOf(WaitTimeoutError);
    const later = waiter.enqueue('b');
    setTimeout(() => void thrower.abandon('a'), 30);
    expect(
      await once(backend, { key: 'c', mode: 'untilDone', onConflict: 'wait', wait: 2000 }).enqueue('b'),
    ).toEqual({
      status: 'claimed',
    });
    await later.catch(() => {});
  });

  it('emits a skipped event for a cancelled claim', async () => {
    const seen: string[] = [];
    const stop = onEvent('skipped', (e) => seen.push(`${e.key}:${e.mode}`));
    const g = once(backend, { key: 'ev', mode: 'untilDone' });
    await g.enqueue('a');
    await g.enqueue('b');
    stop();
    expect(seen).toEqual(['ev:untilDone']);
  });

  it('refuses bad options with InvalidArgumentError', () => {
    expect(() => once(backend, { key: '', mode: 'untilDone' })).toThrow(InvalidArgumentError);
    expect(() => once(backend, { key: 'k', mode: 'sometimes' as never })).toThrow(InvalidArgumentError);
    expect(() => once(backend, { key: 'k', onConflict: 'replace' as never })).toThrow(InvalidArgumentError);
    expect(() => once(backend, { key: 'k', ttl: 0 })).toThrow(InvalidArgumentError);
    expect(() => once({} as LockBackend, { key: 'k' })).toThrow(InvalidArgumentError);
  });
});

describe('once.run for plain async functions', () => {
  const gate = () => {
    let open!: () => void;
    const p = new Promise<void>((r) => {
      open = r;
    });
    return { p, open };
  };

  it('queuedAndRunning: of five overlapping calls, one runs, one waits its turn and runs, three are skipped', async () => {
    const g = once(backend, { key: 'refresh', mode: 'queuedAndRunning' });
    const first = gate();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const body = async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs++;
      if (runs === 1) await first.p;
      running--;
      return runs;
    };
    const calls = [g.run(body)];
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 4; i++) calls.push(g.run(body));
    await new Promise((r) => setTimeout(r, 20));
    first.open();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.status === 'ran')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'cancelled')).toHaveLength(3);
    expect(maxRunning).toBe(1);
  });

  it('whileRunning releases when the function throws', async () => {
    const g = once(backend, { key: 'boom', mode: 'whileRunning' });
    await expect(
      g.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await backend.inspect('boom')).toBeNull();
  });
});
