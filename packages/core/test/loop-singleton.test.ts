import {
  CapabilityUnsupportedError,
  type EventOf,
  InvalidArgumentError,
  LockLostError,
  memoryBackend,
  onEvent,
  type Singleton,
  singleton,
  wakeSingleton,
} from '@oncelock/core';
import { afterEach, describe, expect, it } from 'vitest';
import { delay, gate, peer, stopAll, until } from './loop-support.js';

const slow = { interval: 60_000, ttl: 2000 };
const loops: Singleton[] = [];
const track = <T extends Singleton>(l: T): T => {
  loops.push(l);
  return l;
};
afterEach(async () => {
  await stopAll(loops.splice(0));
});

describe('singleton', () => {
  it('runs the body in one loop at a time among several on one backend', async () => {
    const b = memoryBackend();
    let running = 0;
    let most = 0;
    let passes = 0;
    for (let i = 0; i < 4; i++)
      track(
        singleton(
          b,
          'one-at-a-time',
          async () => {
            running++;
            most = Math.max(most, running);
            await delay(2);
            running--;
            passes++;
            return 'more';
          },
          slow,
        ),
      );
    expect(await until(() => passes >= 50)).toBe(true);
    expect(most).toBe(1);
    expect(loops.filter((l) => l.state === 'leading')).toHaveLength(1);
    expect(loops.filter((l) => l.state === 'waiting')).toHaveLength(3);
  });

  it('hands over at once on stop(), to a leader with a greater fence', async () => {
    const b = memoryBackend();
    const fences: Array<[string, number]> = [];
    const body =
      (who: string) =>
      async ({ fence }: { fence: number }) => {
        fences.push([who, fence]);
      };
    const a = track(singleton(b, 'handover', body('a'), slow));
    expect(await until(() => a.state === 'leading')).toBe(true);
    const c = track(singleton(b, 'handover', body('c'), slow));
    await delay(50);
    expect(c.state).toBe('waiting');
    await a.stop();
    expect(a.state).toBe('stopped');
    // Well within the TTL (2 s) and the fallback poll: the release woke the waiter.
    expect(await until(() => c.state === 'leading', 1000)).toBe(true);
    expect(fences.map(([who]) => who)).toEqual(['a', 'c']);
    expect(fences[1]![1]).toBeGreaterThan(fences[0]![1]);
  });

  it('a leader cut off from the store loses its lease mid-pass: its signal fires, the result is dropped, another takes over', async () => {
    const store = memoryBackend();
    const one = peer(store);
    const two = peer(store);
    const passes: EventOf<'loop.pass'>[] = [];
    const lostEvents: EventOf<'loop.lost'>[] = [];
    const offPass = onEvent('loop.pass', (e) => passes.push(e));
    const offLost = onEvent('loop.lost', (e) => lostEvents.push(e));
    let reason: unknown;
    const inPass = gate();
    const a = track(
      singleton(
        one.backend,
        'lapse',
        async ({ signal }) => {
          inPass.open();
          reason = await new Promise((r) => signal.addEventListener('abort', () => r(signal.reason)));
          return 'more';
        },
        { interval: 60_000, ttl: 300 },
      ),
    );
    await inPass.passed;
    let tookOver = false;
    track(
      singleton(
        two.backend,
        'lapse',
        async () => {
          tookOver = true;
        },
        { interval: 60_000, ttl: 300 },
      ),
    );
    one.cut.on = true;
    expect(await until(() => tookOver)).toBe(true);
    expect(reason).toBeInstanceOf(LockLostError);
    expect(await until(() => lostEvents.length === 1)).toBe(true);
    expect(passes.find((p) => p.key === 'lapse')?.outcome).toBe('lost');
    // It waits to lead again rather than stopping.
    expect(a.state).toBe('waiting');
    one.cut.on = false;
    offPass();
    offLost();
  });

  it('1,000 wake-ups during one pass cause exactly one more pass', async () => {
    const b = memoryBackend();
    const first = gate();
    const entered = gate();
    let passes = 0;
    const loop = track(
      singleton(
        b,
        'coalesce',
        async () => {
          passes++;
          if (passes === 1) {
            entered.open();
            await first.passed;
          }
        },
        slow,
      ),
    );
    await entered.passed;
    await Promise.all(Array.from({ length: 1000 }, () => wakeSingleton(b, 'coalesce')));
    first.open();
    expect(await until(() => passes === 2)).toBe(true);
    await delay(200);
    expect(passes).toBe(2);
    // A wake-up while it sleeps runs one pass at once, here (handle) and from elsewhere (topic).
    await loop.wake();
    expect(await until(() => passes === 3)).toBe(true);
    await wakeSingleton(b, 'coalesce');
    expect(await until(() => passes === 4)).toBe(true);
  });

  it("'more' drains a backlog at once, then sleeps", async () => {
    const b = memoryBackend();
    const backlog = [1, 2, 3, 4, 5];
    let passes = 0;
    track(
      singleton(
        b,
        'drain',
        async () => {
          passes++;
          backlog.shift();
          return backlog.length > 0 ? 'more' : 'idle';
        },
        slow,
      ),
    );
    expect(await until(() => backlog.length === 0)).toBe(true);
    await delay(100);
    expect(passes).toBe(5);
  });

  it('stop() waits for the pass in progress, leaves its signal alone, then releases', async () => {
    const b = memoryBackend();
    const inPass = gate();
    const finish = gate();
    let signal: AbortSignal | undefined;
    const loop = track(
      singleton(
        b,
        'graceful',
        async (ctx) => {
          signal = ctx.signal;
          inPass.open();
          await finish.passed;
        },
        slow,
      ),
    );
    await inPass.passed;
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await delay(50);
    expect(stopped).toBe(false);
    expect(signal?.aborted).toBe(false);
    expect(await b.inspect('graceful')).not.toBeNull();
    finish.open();
    await stopping;
    expect(loop.state).toBe('stopped');
    expect(await b.inspect('graceful')).toBeNull();
  });

  it('a body that throws is reported and the loop goes on; a default report is a process warning', async () => {
    const b = memoryBackend();
    const errors: unknown[] = [];
    let passes = 0;
    track(
      singleton(
        b,
        'throws',
        async () => {
          passes++;
          if (passes === 1) throw new Error('boom');
          if (passes === 2) return 'maybe' as 'more';
        },
        { interval: 20, ttl: 2000, onError: (e) => errors.push(e) },
      ),
    );
    expect(await until(() => passes >= 3)).toBe(true);
    expect((errors[0] as Error).message).toBe('boom');
    expect(errors[1]).toBeInstanceOf(InvalidArgumentError);

    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    track(
      singleton(
        b,
        'throws-quietly',
        async () => {
          throw new Error('nobody listens');
        },
        slow,
      ),
    );
    expect(await until(() => warnings.length > 0)).toBe(true);
    process.off('warning', onWarning);
    expect(warnings[0]?.name).toBe('OncelockLoopWarning');
    expect(warnings[0]?.message).toContain('nobody listens');
  });

  it('its signal stops it like stop(); a closed backend stops it too', async () => {
    const b = memoryBackend();
    const controller = new AbortController();
    const loop = singleton(b, 'by-signal', async () => {}, { ...slow, signal: controller.signal });
    expect(await until(() => loop.state === 'leading')).toBe(true);
    controller.abort();
    await loop.stopped;
    expect(await b.inspect('by-signal')).toBeNull();

    const stops: EventOf<'loop.stopped'>[] = [];
    const off = onEvent('loop.stopped', (e) => stops.push(e));
    const closing = singleton(b, 'by-close', async () => {}, slow);
    expect(await until(() => closing.state === 'leading')).toBe(true);
    await b.close();
    await closing.stopped;
    off();
    expect(closing.state).toBe('stopped');
    expect(stops.find((e) => e.key === 'by-close')?.cause).toBe('closed');
  });

  it('without notify/listen it runs on its interval, and wakeSingleton refuses with a typed error', async () => {
    const { backend } = peer(memoryBackend(), ['notify', 'listen']);
    let passes = 0;
    const loop = track(
      singleton(
        backend,
        'no-wakeups',
        async () => {
          passes++;
        },
        { interval: 30, ttl: 2000 },
      ),
    );
    expect(await until(() => passes >= 3)).toBe(true);
    await expect(wakeSingleton(backend, 'no-wakeups')).rejects.toBeInstanceOf(CapabilityUnsupportedError);
    // The leader's own handle still wakes it, in this process.
    await loop.wake();
  });

  it('refuses bad input before any round trip', () => {
    const b = memoryBackend();
    const body = async () => {};
    const bad: Array<() => unknown> = [
      () => singleton({} as never, 'x', body, slow),
      () => singleton(b, '', body, slow),
      () => singleton(b, 'x', 'body' as never, slow),
      () => singleton(b, 'x', body, { ttl: 1000 } as never),
      () => singleton(b, 'x', body, { interval: 0, ttl: 1000 }),
      () => singleton(b, 'x', body, { interval: 10, ttl: 5 }),
      () => singleton(b, 'x', body, { ...slow, intervall: 5 } as never),
    ];
    for (const call of bad) expect(call).toThrow(InvalidArgumentError);
    return expect(wakeSingleton(b, '')).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
