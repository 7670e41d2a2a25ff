import { readFileSync } from 'node:fs';
import {
  BackendUnavailableError,
  InvalidArgumentError,
  WaitAbortedError,
  WaitTimeoutError,
} from '@oncelock/core';
import { spawnWorker, stopAllWorkers, type Worker } from '@oncelock/testkit/faults';
import { afterAll, describe, expect, it } from 'vitest';

const ECHO = new URL('./fixtures/echo-worker.mjs', import.meta.url);

/** What the echo-worker fixture sends. */
type Said = { type: 'ready'; pid: number; argv: string[]; fixture?: string } | { type: 'pong'; id: number };

const isReady = (m: Said) => m.type === 'ready';
const pongFor = (id: number) => (m: Said) => m.type === 'pong' && m.id === id;

async function started(args: string[] = []): Promise<Worker> {
  const worker = spawnWorker(ECHO, args);
  await worker.next(isReady, 10_000);
  return worker;
}

/** The scheduler's state letter from /proc: `T` stopped, `S` sleeping, `R` running. */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0]!;
}

describe('spawnWorker', () => {
  afterAll(() => stopAllWorkers());

  it('runs a script with args and env, and exchanges IPC messages', async () => {
    const worker = spawnWorker(ECHO, ['--flag'], { env: { FIXTURE_TAG: 'tagged' } });
    const ready = await worker.next<Said>(isReady, 10_000);
    expect(ready).toMatchObject({ pid: worker.pid, argv: ['--flag'], fixture: 'tagged' });
    await worker.send({ type: 'ping', id: 1 });
    expect(await worker.next(pongFor(1))).toEqual({ type: 'pong', id: 1 });
    expect(worker.messages).toEqual([ready, { type: 'pong', id: 1 }]);
    await worker.stop();
  });

  it('next claims each message once, and finds one that arrived before it was asked for', async () => {
    const worker = await started();
    await worker.send({ type: 'ping', id: 2 });
    await worker.send({ type: 'ping', id: 3 });
    expect(await worker.next(pongFor(3))).toEqual({ type: 'pong', id: 3 });
    expect(await worker.next()).toEqual({ type: 'pong', id: 2 });
    await expect(worker.next(pongFor(3), 200)).rejects.toBeInstanceOf(WaitTimeoutError);
    await worker.stop();
  });

  it('freeze stops a child from answering; thaw lets it answer what it was sent', async () => {
    const worker = await started();
    worker.freeze();
    await worker.send({ type: 'ping', id: 4 });
    await expect(worker.next(pongFor(4), 300)).rejects.toBeInstanceOf(WaitTimeoutError);
    expect(procState(worker.pid)).toBe('T');
    worker.thaw();
    expect(await worker.next(pongFor(4), 5_000)).toEqual({ type: 'pong', id: 4 });
    expect(procState(worker.pid)).not.toBe('T');
    await worker.stop();
  });

  it('kill ends the process with SIGKILL; waits and sends afterwards fail typed', async () => {
    const worker = await started();
    expect(await worker.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(() => process.kill(worker.pid, 0)).toThrow(/ESRCH/);
    await expect(worker.next(pongFor(5), 1_000)).rejects.toBeInstanceOf(WaitAbortedError);
    await expect(worker.send({ type: 'ping', id: 5 })).rejects.toBeInstanceOf(BackendUnavailableError);
    worker.freeze(); // a no-op on a dead process, never a signal to a recycled pid
  });

  it('a waiting next is aborted when the process exits', async () => {
    const worker = await started();
    const waiting = worker.next(pongFor(6), 5_000);
    await worker.send({ type: 'exit', code: 3 });
    await expect(waiting).rejects.toBeInstanceOf(WaitAbortedError);
    expect(await worker.exited).toEqual({ code: 3, signal: null });
  });

  it('stop ends a frozen child with SIGTERM, and one that ignores SIGTERM with SIGKILL', async () => {
    const frozen = await started();
    frozen.freeze();
    expect(await frozen.stop(5_000)).toEqual({ code: null, signal: 'SIGTERM' });
    const stubborn = await started(['--ignore-sigterm']);
    expect(await stubborn.stop(200)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('stopAllWorkers ends every worker still running', async () => {
    const workers = [await started(), await started(['--ignore-sigterm'])];
    workers[1]!.freeze();
    await stopAllWorkers(300);
    const exits = await Promise.all(workers.map((w) => w.exited));
    expect(exits.map((e) => e.signal)).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('refuses bad input with InvalidArgumentError', async () => {
    expect(() => spawnWorker('')).toThrow(InvalidArgumentError);
    expect(() => spawnWorker(ECHO, ['ok', 3 as unknown as string])).toThrow(InvalidArgumentError);
    const worker = await started();
    await expect(worker.next(undefined, -1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await worker.stop();
  });
});
