import { CapabilityUnsupportedError, type LockBackend, rateLimit, rateLimited } from '@oncelock/core';
import { gcra, type RateDecision, type RateRequest } from '@oncelock/core/backend';
import { describe, expect, it } from 'vitest';
import type { SuiteParts } from './contract-limits.js';
import { delay } from './waits.js';

type Rate = Omit<RateRequest, 'key'>;
type Granted = Extract<RateDecision, { allowed: true }>;

/** Whole milliseconds a store may round its times to: `at`, `delay` and `retryAfter` agree within it. */
const JITTER = 1;
/** A window so long that no test outlives an interval of it: its decisions do not depend on speed. */
const LONG = 600_000;

/**
 * The contract of rate limits (`rateLimit`: GCRA on the store's clock, see `RateRequest`). Cases
 * run on backends that have the op and compare their decisions with core's reference `gcra`;
 * the others must be refused by core with a typed error before any round trip.
 */
export function rateCases(s: SuiteParts): void {
  const { make, pair, key, t } = s;
  /** Two contenders on one fresh key, or a skip where the backend keeps no rates. */
  const rated = async (name: string, ctx: { skip: (note?: string) => void }) => {
    const p = await pair(name);
    if (!p.a.rateLimit) ctx.skip('the backend keeps no rate limits');
    return p;
  };
  const ask = (b: LockBackend, k: string, rate: Rate) => b.rateLimit!({ key: k, ...rate });
  const granted = async (b: LockBackend, k: string, rate: Rate): Promise<Granted> => {
    const d = await ask(b, k, rate);
    expect(d).toMatchObject({ allowed: true });
    return d as Granted;
  };
  const near = (actual: number, expected: number) =>
    expect(Math.abs(actual - expected)).toBeLessThanOrEqual(JITTER);

  describe('rate limits', () => {
    it('a backend without rate limits is refused by core with a typed error', async (ctx) => {
      const a = await make();
      if (a.rateLimit) ctx.skip('the backend keeps rate limits');
      await expect(rateLimit(a, key('no-rates'), { limit: 5, per: 1000 })).rejects.toBeInstanceOf(
        CapabilityUnsupportedError,
      );
      expect(() => rateLimited(() => 1, { backend: a, key: 'k', limit: 5, per: 1000 })).toThrow(
        CapabilityUnsupportedError,
      );
    });

    it('a fresh key grants 1 + burst at once, remaining counting down, then retryAfter about per / limit', async (ctx) => {
      const { a, b, k } = await rated('rate-fresh', ctx);
      const rate = { limit: 4, per: LONG, burst: 2 };
      const begun = performance.now();
      // Alternating contenders: the count is the store's, not a connection's.
      const answers = [await rateLimit(a, k, rate), await rateLimit(b, k, rate), await rateLimit(a, k, rate)];
      expect(answers).toEqual([
        { allowed: true, remaining: 2 },
        { allowed: true, remaining: 1 },
        { allowed: true, remaining: 0 },
      ]);
      const refused = await rateLimit(b, k, rate);
      const took = performance.now() - begun;
      const interval = LONG / 4;
      expect(refused.allowed).toBe(false);
      if (refused.allowed) return;
      expect(refused.retryAfter).toBeLessThanOrEqual(interval + JITTER);
      expect(refused.retryAfter).toBeGreaterThanOrEqual(interval - took - JITTER);
    });

    it('reserve grants a future slot; successive reservers get slots per / limit apart, in order', async (ctx) => {
      const { a, b, k } = await rated('rate-reserve', ctx);
      const rate = { limit: 10, per: LONG, burst: 0, reserve: LONG };
      const interval = LONG / 10;
      const first = await granted(a, k, rate);
      expect(first.delay).toBe(0);
      const slots = [first.at];
      for (let i = 1; i <= 5; i++) {
        const d = await granted(i % 2 ? b : a, k, rate);
        expect(d.remaining).toBe(0);
        // The slot is `delay` after the store's now, and each comes one interval after the last.
        expect(d.delay).toBeGreaterThan(0);
        near(d.at, first.at + i * interval);
        slots.push(d.at);
      }
      expect(slots).toEqual([...slots].sort((x, y) => x - y));
      // A reservation beyond `reserve` is refused with the wait it would have had.
      const beyond = await ask(a, k, { ...rate, reserve: interval });
      expect(beyond.allowed).toBe(false);
    });

    it("waiting callers start at their reserved slots, not before, on the store's clock", async (ctx) => {
      const { a, k } = await rated('rate-wait', ctx);
      const per = t(50);
      const first = await granted(a, k, { limit: 1, per, burst: 0, reserve: 0 });
      // The store's time now: the slot of a fresh key's first request.
      const storeNow = async () =>
        (await granted(a, key('rate-clock'), { limit: 1, per, burst: 0, reserve: 0 })).at;
      const starts = await Promise.all(
        [1, 2].map(async () => {
          expect(await rateLimit(a, k, { limit: 1, per, wait: t(5000) })).toEqual({
            allowed: true,
            remaining: 0,
          });
          return storeNow();
        }),
      );
      for (const [i, at] of starts.sort((x, y) => x - y).entries())
        expect(at).toBeGreaterThanOrEqual(first.at + (i + 1) * per - JITTER);
      // The two waiters held the slots after the first: the next is the third.
      near((await granted(a, k, { limit: 1, per, burst: 0, reserve: 10 * per })).at, first.at + 3 * per);
    });

    it('a refusal stores nothing: refused callers do not push the next slot back', async (ctx) => {
      const { a, b, k } = await rated('rate-refusal', ctx);
      const rate = { limit: 1, per: LONG, burst: 0, reserve: 0 };
      const first = await granted(a, k, rate);
      for (let i = 0; i < 5; i++) expect((await ask(b, k, rate)).allowed).toBe(false);
      const reserved = await granted(b, k, { ...rate, reserve: 2 * LONG });
      near(reserved.at, first.at + LONG);
    });

    it('keys are independent', async (ctx) => {
      const { a, b, k } = await rated('rate-keys', ctx);
      const other = key('rate-keys-other');
      const rate = { limit: 1, per: LONG, burst: 0, reserve: 0 };
      await granted(a, k, rate);
      await granted(b, other, rate);
      expect((await ask(a, k, rate)).allowed).toBe(false);
      expect((await ask(b, other, rate)).allowed).toBe(false);
    });

    it('a change of limit or per takes effect at the next decision', async (ctx) => {
      const { a, k } = await rated('rate-change', ctx);
      const slow = { limit: 10, per: LONG, burst: 0, reserve: 10 * LONG };
      const first = await granted(a, k, slow);
      const second = await granted(a, k, slow);
      near(second.at, first.at + LONG / 10);
      // Twice the limit: the next slot was set by the old pace, the one after by the new one.
      const faster = { ...slow, limit: 20 };
      const third = await granted(a, k, faster);
      const fourth = await granted(a, k, faster);
      near(third.at, second.at + LONG / 10);
      near(fourth.at, third.at + LONG / 20);
      // Half the window at the old limit: the same new pace.
      const fifth = await granted(a, k, { ...slow, per: LONG / 2 });
      near(fifth.at, fourth.at + LONG / 20);
    });

    it('a key left idle past its window is fresh again', async (ctx) => {
      const { a, k } = await rated('rate-idle', ctx);
      // Two a window, one of them as burst: all are back once the window has passed.
      const rate = { limit: 2, per: t(400), burst: 1 };
      for (const remaining of [1, 0])
        expect(await rateLimit(a, k, rate)).toEqual({ allowed: true, remaining });
      await delay(t(400) + t(50));
      expect(await rateLimit(a, k, rate)).toEqual({ allowed: true, remaining: 1 });
    });

    it('decisions match the reference GCRA, within clock jitter', async (ctx) => {
      const { a, b, k } = await rated('rate-reference', ctx);
      // Mixed rates, bursts and reservations on both contenders; times far apart relative to
      // how long the calls take, so each decision is determined.
      const interval = LONG / 5;
      const steps: Rate[] = [
        { limit: 5, per: LONG, burst: 1, reserve: 0 },
        { limit: 5, per: LONG, burst: 1, reserve: 0 },
        { limit: 5, per: LONG, burst: 1, reserve: 0 },
        { limit: 5, per: LONG, burst: 0, reserve: interval / 2 },
        { limit: 5, per: LONG, burst: 1, reserve: 2 * interval },
        { limit: 5, per: LONG, burst: 3, reserve: 0 },
        { limit: 5, per: LONG, burst: 3, reserve: 0 },
        { limit: 10, per: LONG, burst: 0, reserve: 10 * interval },
        { limit: 5, per: LONG, burst: 0, reserve: 0 },
      ];
      let tat: number | undefined;
      // The store's time is known exactly at each grant (`at - delay`); later it is known to
      // within the local time since that grant's request was sent.
      let known: { now: number; sent: number } | undefined;
      for (const [i, rate] of steps.entries()) {
        const request = { key: k, ...rate };
        const sent = performance.now();
        const d = await ask(i % 2 ? b : a, k, rate);
        if (d.allowed) {
          const now = d.at - d.delay;
          const model = gcra(tat, now, request);
          expect(model.decision, `step ${i}`).toMatchObject({ allowed: true, remaining: d.remaining });
          if (model.decision.allowed) near(d.delay, model.decision.delay);
          tat = model.tat;
          known = { now, sent };
          continue;
        }
        expect(known, 'the first request of a fresh key is granted').toBeDefined();
        if (!known) return;
        const earliest = gcra(tat, known.now, request).decision;
        const latest = gcra(tat, known.now + (performance.now() - known.sent), request).decision;
        expect([earliest.allowed, latest.allowed], `step ${i}`).toContain(false);
        if (!earliest.allowed) expect(d.retryAfter).toBeLessThanOrEqual(earliest.retryAfter + JITTER);
        if (!latest.allowed) expect(d.retryAfter).toBeGreaterThanOrEqual(latest.retryAfter - JITTER);
      }
    });
  });
}
