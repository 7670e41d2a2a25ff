import type { RateDecision, RateRequest } from '@oncelock/core/backend';
import { memoryBackend } from '@oncelock/redis';
import { delay } from '@oncelock/testkit';
import { expect } from 'vitest';

// Redis's rate decisions against core's reference GCRA (gcra.ts, which the memory store runs),
// fed the same server times. A grant's time is its `at - delay` (exact when delay is 0, within a
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
  let now = 0;
  const reference = memoryBackend({ clock: () => now });
  const tally = { granted: 0, refused: 0 };
  for (let i = 0; i < count; i++) {
    const before = await time();
    const got = await decide(request);
    const after = await time();
    if (got.allowed) {
      tally.granted++;
      now = got.at - got.delay;
      expect(now).toBeGreaterThanOrEqual(before - 0.001);
      expect(now).toBeLessThanOrEqual(after + 0.001);
      const want = await reference.rateLimit!(request);
      if (!want.allowed)
        throw new Error(`granted ${JSON.stringify(got)}, the reference refused: ${JSON.stringify(want)}`);
      expect(got.remaining).toBe(want.remaining);
      expect(got.delay).toBeCloseTo(want.delay, 2);
      expect(got.at).toBeCloseTo(want.at, 2);
      if (got.delay === 0) expect(got).toEqual(want);
    } else {
      tally.refused++;
      // A refusal stores nothing, here as there: asking the reference at both ends changes nothing.
      now = before;
      const early = await reference.rateLimit!(request);
      now = after;
      const late = await reference.rateLimit!(request);
      if (early.allowed || late.allowed)
        throw new Error(
          `refused ${JSON.stringify(got)}, the reference granted one of ${JSON.stringify([early, late])}`,
        );
      expect(got.retryAfter).toBeLessThanOrEqual(early.retryAfter);
      expect(got.retryAfter).toBeGreaterThanOrEqual(late.retryAfter);
    }
    await delay(i % 3 === 0 ? 0 : (i * 7) % 40);
  }
  await reference.close();
  return tally;
}
