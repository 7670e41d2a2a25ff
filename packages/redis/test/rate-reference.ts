import { gcra, type RateDecision, type RateRequest } from '@oncelock/core/backend';
import { delay } from '@oncelock/testkit';
import { expect } from 'vitest';

// Redis's rate decisions against core's reference GCRA (gcra.ts, which the memory store runs),
// given the same server times. A grant's time is its `at - delay` (exact when delay is 0, within a
// unit of the last place otherwise); a refusal's lies between TIME read just before and just after
// it, and its retryAfter between the reference's at those two times.

/** The rates the comparisons run: an even pace, bursts, and slots reserved ahead. */
export const shapes: readonly Omit<RateRequest, 'key'>[] = [
  { limit: 5, per: 1000, burst: 2, reserve: 0 },
  { limit: 3, per: 700, burst: 0, reserve: 500 },
  { limit: 10, per: 250, burst: 4, reserve: 120 },
  { limit: 7, per: 100, burst: 1, reserve: 0 },
];

/**
 * Asks `decide` for `count` decisions of `request`, a few ms apart, and checks each against the
 * reference. `time` reads the server's clock in ms as the script does (TIME, µs / 1000).
 * Resolves with how many were granted and refused, so a caller can see both were exercised.
 */
export async function matchesReference(
  request: RateRequest,
  count: number,
  decide: (request: RateRequest) => Promise<RateDecision>,
  time: () => Promise<number>,
): Promise<{ granted: number; refused: number }> {
  let tat: number | undefined;
  const tally = { granted: 0, refused: 0 };
  for (let i = 0; i < count; i++) {
    const before = await time();
    const got = await decide(request);
    const after = await time();
    if (got.allowed) {
      tally.granted++;
      const now = got.at - got.delay;
      expect(now).toBeGreaterThanOrEqual(before - 0.001);
      expect(now).toBeLessThanOrEqual(after + 0.001);
      const want = gcra(tat, now, request);
      if (!want.decision.allowed)
        throw new Error(`granted ${JSON.stringify(got)}, the reference refused: ${JSON.stringify(want)}`);
      expect(got.remaining).toBe(want.decision.remaining);
      expect(got.delay).toBeCloseTo(want.decision.delay, 2);
      expect(got.at).toBeCloseTo(want.decision.at, 2);
      if (got.delay === 0) expect(got).toEqual(want.decision);
      tat = want.tat;
    } else {
      tally.refused++;
      // Decided between the two readings: refused at the first, and no sooner free than at the
      // second (which may already grant, if the slot came in between). A refusal keeps the tat.
      const early = gcra(tat, before, request).decision;
      const late = gcra(tat, after, request).decision;
      if (early.allowed)
        throw new Error(`refused ${JSON.stringify(got)}, the reference granted ${JSON.stringify(early)}`);
      expect(got.retryAfter).toBeLessThanOrEqual(early.retryAfter);
      if (!late.allowed) expect(got.retryAfter).toBeGreaterThanOrEqual(late.retryAfter);
    }
    // 0 to 15 ms apart: faster than every shape's rate, so that each is both granted and refused.
    await delay(i % 3 === 0 ? 0 : (i * 7) % 16);
  }
  return tally;
}
