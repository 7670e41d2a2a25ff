import {
  BackendUnavailableError,
  CapabilityUnsupportedError,
  type EventOf,
  InvalidArgumentError,
  type LockBackend,
  memoryBackend,
  onEvent,
  rateLimit,
  rateLimited,
  WaitAbortedError,
} from '@oncelock/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The store's clock is a fake one the tests move by hand, so every decision is exact; only a
// caller's sleep for its reserved slot runs on real timers.
let time: number;
let backend: LockBackend;
beforeEach(() => {
  time = 1_000;
  backend = memoryBackend({ clock: () => time });
});
afterEach(() => backend.close());

describe('rateLimit', () => {
  it('grants limit starts per window, evenly paced, and says when the next is due', async () => {
    const rate = { limit: 4, per: 1000 };
    expect(await rateLimit(backend, 'api', rate)).toEqual({ allowed: true, remaining: 0 });
    expect(await rateLimit(backend, 'api', rate)).toEqual({ allowed: false, retryAfter: 250 });
    time += 100;
    expect(await rateLimit(backend, 'api', rate)).toEqual({ allowed: false, retryAfter: 150 });
    time += 150;
    expect(await rateLimit(backend, 'api', rate)).toEqual({ allowed: true, remaining: 0 });
  });

  it('burst grants that many more at once after an idle spell, counting down remaining', async () => {
    const rate = { limit: 10, per: 1000, burst: 2 };
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await rateLimit(backend, 'mail', rate));
    expect(answers).toEqual([
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
      { allowed: false, retryAfter: 100 },
    ]);
  });

  it('with wait, reserves the next slot and sleeps until it; a slot beyond wait is refused', async () => {
    const rate = { limit: 1, per: 40, wait: 100 };
    const events: EventOf<'rate'>[] = [];
    const stop = onEvent('rate', (e) => events.push(e));
    try {
      await rateLimit(backend, 'w', rate);
      // The store's clock stands still: these two reserve the slots at 40 and 80 ms.
      const [second, third] = await Promise.all([
        rateLimit(backend, 'w', rate),
        rateLimit(backend, 'w', rate),
      ]);
      expect(second).toEqual({ allowed: true, remaining: 0 });
      expect(third).toEqual({ allowed: true, remaining: 0 });
      expect(await rateLimit(backend, 'w', rate)).toEqual({ allowed: false, retryAfter: 120 });
    } finally {
      stop();
    }
    expect(events.map((e) => (e.allowed ? e.delay : -e.retryAfter))).toEqual([0, 40, 80, -120]);
    expect(events.every((e) => e.backend === 'memory' && e.key === 'w' && e.tookMs >= 0)).toBe(true);
  });

  it('an abort ends the wait with WaitAbortedError, and the reserved slot stays taken', async () => {
    const rate = { limit: 1, per: 60_000, wait: 120_000 };
    await rateLimit(backend, 'slow', rate);
    const controller = new AbortController();
    const waiting = rateLimit(backend, 'slow', { ...rate, signal: controller.signal });
    // The reservation is made before the caller sleeps: the next free slot moves on.
    await expect
      .poll(() => rateLimit(backend, 'slow', { limit: 1, per: 60_000 }))
      .toEqual({
        allowed: false,
        retryAfter: 120_000,
      });
    controller.abort(new Error('shutting down'));
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitAbortedError);
    expect((error as Error).cause).toEqual(new Error('shutting down'));
    expect(await rateLimit(backend, 'slow', { limit: 1, per: 60_000 })).toEqual({
      allowed: false,
      retryAfter: 120_000,
    });
  });

  it('an aborted signal refuses before any round trip: nothing is stored', async () => {
    const signal = AbortSignal.abort();
    await expect(rateLimit(backend, 'a', { limit: 1, per: 1000, signal })).rejects.toBeInstanceOf(
      WaitAbortedError,
    );
    expect(await rateLimit(backend, 'a', { limit: 1, per: 1000 })).toEqual({ allowed: true, remaining: 0 });
  });

  it('refuses bad input with typed errors that name the option', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [undefined, /needs an options object/],
      [{ per: 1000 }, /limit is required/],
      [{ limit: 0, per: 1000 }, /limit must be a whole number from 1/],
      [{ limit: 1.5, per: 1000 }, /limit must be/],
      [{ limit: 5 }, /per is required/],
      [{ limit: 5, per: 0 }, /per must be a duration/],
      [{ limit: 5, per: 1000, burst: -1 }, /burst must be/],
      [{ limit: 5, per: 1000, wait: true }, /wait must be false or/],
      [{ limit: 5, per: 1000, signal: 'stop' }, /signal must be an AbortSignal/],
      [{ limt: 5, per: 1000 }, /unknown option "limt": did you mean "limit"\?/],
    ];
    for (const [options, message] of bad) {
      const call = rateLimit(backend, 'k', options as never);
      await expect(call).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(call).rejects.toThrow(message);
    }
    await expect(rateLimit(backend, '', { limit: 1, per: 1 })).rejects.toThrow(/key must not be empty/);
    await expect(rateLimit({} as never, 'k', { limit: 1, per: 1 })).rejects.toThrow(/oncelock backend/);
  });

  it('a backend without rateLimit is refused with CapabilityUnsupportedError', async () => {
    const { rateLimit: _none, ...noRates } = memoryBackend();
    const call = rateLimit(noRates, 'k', { limit: 1, per: 1000 });
    await expect(call).rejects.toBeInstanceOf(CapabilityUnsupportedError);
    await expect(call).rejects.toThrow(/keeps no rate limits/);
  });

  it("a store's failure is a BackendUnavailableError", async () => {
    const failing = {
      ...backend,
      rateLimit: () => Promise.reject(new Error('connection reset')),
    };
    await expect(rateLimit(failing, 'k', { limit: 1, per: 1000 })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });
});

describe('rateLimited', () => {
  it('runs a call within the rate and cancels one over it with retryAfter, without running it', async () => {
    const ran: string[] = [];
    const send = rateLimited(
      async function (this: { from: string }, to: string) {
        ran.push(to);
        return `${this.from}->${to}`;
      },
      { backend, key: 'mail', limit: 2, per: 1000 },
    );
    const mailer = { from: 'ops', send };
    expect(await mailer.send('a')).toEqual({ status: 'ran', value: 'ops->a' });
    expect(await mailer.send('b')).toEqual({ status: 'cancelled', reason: 'rate-limited', retryAfter: 500 });
    time += 500;
    expect(await mailer.send('c')).toEqual({ status: 'ran', value: 'ops->c' });
    expect(ran).toEqual(['a', 'c']);
  });

  it('keys by a function of the arguments: each tenant has its own rate', async () => {
    const send = rateLimited((tenant: string, n: number) => `${tenant}:${n}`, {
      backend,
      key: (tenant) => `mail:${tenant}`,
      limit: 1,
      per: 1000,
    });
    expect(await send('acme', 1)).toMatchObject({ status: 'ran', value: 'acme:1' });
    expect(await send('globex', 2)).toMatchObject({ status: 'ran', value: 'globex:2' });
    expect(await send('acme', 3)).toMatchObject({ status: 'cancelled', reason: 'rate-limited' });
  });

  it('with wait, a call runs at its reserved slot instead of being cancelled', async () => {
    const send = rateLimited(() => 'sent', { backend, key: 'w', limit: 1, per: 30, wait: 70 });
    const results = await Promise.all([send(), send(), send()]);
    expect(results).toEqual([
      { status: 'ran', value: 'sent' },
      { status: 'ran', value: 'sent' },
      { status: 'ran', value: 'sent' },
    ]);
    expect(await send()).toEqual({ status: 'cancelled', reason: 'rate-limited', retryAfter: 90 });
  });

  it("propagates fn's error; the start still counts", async () => {
    const fail = rateLimited(
      () => {
        throw new Error('smtp down');
      },
      { backend, key: 'e', limit: 1, per: 1000 },
    );
    await expect(fail()).rejects.toThrow('smtp down');
    expect(await fail()).toMatchObject({ status: 'cancelled', retryAfter: 1000 });
  });

  it('refuses bad options and a backend without rate limits when the function is wrapped', async () => {
    expect(() => rateLimited('send' as never, { backend, key: 'k', limit: 1, per: 1 })).toThrow(
      /rateLimited\(\): needs a function, got/,
    );
    expect(() => rateLimited(() => 1, { backend, key: 'k', limit: 1 } as never)).toThrow(
      InvalidArgumentError,
    );
    expect(() => rateLimited(() => 1, { backend, key: 'k', limit: 1, per: 1, brust: 2 } as never)).toThrow(
      /did you mean "burst"/,
    );
    expect(() => rateLimited(() => 1, { backend, key: 3 as never, limit: 1, per: 1 })).toThrow(
      /key must be a string or a function/,
    );
    const { rateLimit: _none, ...noRates } = memoryBackend();
    expect(() => rateLimited(() => 1, { backend: noRates, key: 'k', limit: 1, per: 1 })).toThrow(
      CapabilityUnsupportedError,
    );
    const badKey = rateLimited(() => 1, { backend, key: () => '', limit: 1, per: 1 });
    await expect(badKey()).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
