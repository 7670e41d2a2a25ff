import {
  CapabilityUnsupportedError,
  iterate,
  iterationProgress,
  type LockBackend,
  lease,
  singleton,
  wakeSingleton,
} from '@oncelock/core';
import { MAX_STATE_LENGTH, newToken } from '@oncelock/core/backend';
import { describe, expect, it } from 'vitest';
import type { SuiteParts } from './contract-limits.js';
import { delay, eventually } from './waits.js';

type Ctx = { skip: (note?: string) => void };

/** Counts the calls of a listener. */
function counter() {
  const c = { n: 0, hear: () => void c.n++ };
  return c;
}

/**
 * The contract of the operations loops use: wake-ups (`notify`/`listen`) and a value kept under
 * a lease (`saveState`/`loadState`/`deleteState`). A backend without them is checked to be
 * refused by core with `CapabilityUnsupportedError` instead.
 */
export function loopCases(s: SuiteParts): void {
  const { make, pair, key, t } = s;
  const wakes = (b: LockBackend) => typeof b.notify === 'function' && typeof b.listen === 'function';
  const keeps = (b: LockBackend) =>
    typeof b.saveState === 'function' &&
    typeof b.loadState === 'function' &&
    typeof b.deleteState === 'function';
  const withWakes = async (ctx: Ctx) => {
    const p = await pair('topic');
    if (!wakes(p.a)) ctx.skip('the backend has no notify/listen');
    return p;
  };
  const withState = async (ctx: Ctx) => {
    const p = await pair('state');
    if (!keeps(p.a)) ctx.skip('the backend keeps no state');
    return p;
  };
  const fenceOf = (l: { fence: number }) => (s.guarantees().fencing ? l.fence : undefined);

  describe('wake-ups (notify/listen)', () => {
    it('a backend without them is refused by core with a typed error', async (ctx) => {
      const a = await make();
      // wakeSingleton needs only notify: a backend that sends but cannot listen still sends.
      if (typeof a.notify === 'function') ctx.skip('the backend has notify');
      await expect(wakeSingleton(a, key('no-wakes'))).rejects.toBeInstanceOf(CapabilityUnsupportedError);
    });

    it('notify reaches a live listener, on this backend object and on another one', async (ctx) => {
      const { a, b, k } = await withWakes(ctx);
      const here = counter();
      const there = counter();
      const offs = [await a.listen!(k, here.hear), await b.listen!(k, there.hear)];
      // listen resolved: the subscription is live, so a notify sent now is not missed.
      await a.notify!(k);
      expect(await eventually(() => here.n >= 1 && there.n >= 1)).toBe(true);
      for (const off of offs) off();
    });

    it('nothing is queued: a listener that subscribes after a notify does not hear it', async (ctx) => {
      const { a, b, k } = await withWakes(ctx);
      // The late listener subscribes once the notify has reached b (an early listener there heard
      // it): on a Cluster a notify crosses the bus to b's node a little after notify() returns.
      const early = counter();
      const offEarly = await b.listen!(k, early.hear);
      await a.notify!(k);
      expect(await eventually(() => early.n >= 1)).toBe(true);
      const late = counter();
      const off = await b.listen!(k, late.hear);
      await delay(t(200));
      expect(late.n).toBe(0);
      expect(early.n).toBe(1);
      off();
      offEarly();
    });

    it('unsubscribing stops a listener, and topics are independent', async (ctx) => {
      const { a, b, k } = await withWakes(ctx);
      const [gone, other, sentinel] = [counter(), counter(), counter()];
      const offGone = await b.listen!(k, gone.hear);
      const offOther = await b.listen!(`${k}:other`, other.hear);
      const offSentinel = await b.listen!(`${k}:sentinel`, sentinel.hear);
      offGone();
      await a.notify!(k);
      // Sent after, on the same connection: once it is heard, the first would have been too.
      await a.notify!(`${k}:sentinel`);
      expect(await eventually(() => sentinel.n >= 1)).toBe(true);
      await delay(t(50));
      expect(gone.n).toBe(0);
      expect(other.n).toBe(0);
      offOther();
      offSentinel();
    });

    it('wakeSingleton from another backend object wakes the leader at once', async (ctx) => {
      const { a, b, k } = await withWakes(ctx);
      let passes = 0;
      const loop = singleton(
        a,
        k,
        async () => {
          passes++;
        },
        { interval: 600_000, ttl: t(5000) },
      );
      try {
        expect(await eventually(() => passes === 1 && loop.state === 'leading')).toBe(true);
        await wakeSingleton(b, k);
        expect(await eventually(() => passes === 2)).toBe(true);
      } finally {
        await loop.stop();
      }
    });
  });

  describe('saved state (saveState/loadState/deleteState)', () => {
    it('a backend without it is refused by core with a typed error', async (ctx) => {
      const a = await make();
      if (keeps(a)) ctx.skip('the backend keeps state');
      expect(() => iterate(a, key('no-state'), { start: 0, step: async () => null })).toThrow(
        CapabilityUnsupportedError,
      );
      await expect(iterationProgress(a, key('no-state'))).rejects.toBeInstanceOf(CapabilityUnsupportedError);
    });

    it('only the holder of the lease saves; load and delete work from anywhere', async (ctx) => {
      const { a, b, k } = await withState(ctx);
      expect(await b.loadState!(k)).toBeNull();
      const l = await lease(a, k, { ttl: t(5000) });
      const fence = fenceOf(l);
      expect(await b.saveState!({ key: k, owner: newToken(), fence, value: 'intruder' })).toBe(false);
      expect(await a.saveState!({ key: k, owner: l.token, fence, value: 'v1' })).toBe(true);
      const saved = await b.loadState!(k);
      expect(saved?.value).toBe('v1');
      if (fence !== undefined) expect(saved?.fence).toBe(fence);
      expect(typeof saved?.savedAt).toBe('number');
      expect(await b.deleteState!(k)).toBe(true);
      expect(await b.deleteState!(k)).toBe(false);
      expect(await a.loadState!(k)).toBeNull();
      await l.release();
      expect(await a.saveState!({ key: k, owner: l.token, fence, value: 'after release' })).toBe(false);
      expect(await b.loadState!(k)).toBeNull();
    });

    it('a save is refused once the lease has expired', async (ctx) => {
      const { a, k } = await withState(ctx);
      const l = await lease(a, k, { ttl: t(300), autoExtend: false });
      expect(await a.saveState!({ key: k, owner: l.token, fence: fenceOf(l), value: 'kept' })).toBe(true);
      await delay(t(300) + t(150));
      expect(await a.saveState!({ key: k, owner: l.token, fence: fenceOf(l), value: 'late' })).toBe(false);
      expect((await a.loadState!(k))?.value).toBe('kept');
      await a.deleteState!(k);
    });

    it('a save under a smaller fence than the last one is refused', async (ctx) => {
      const { a, b, k } = await withState(ctx);
      if (!s.guarantees().fencing) ctx.skip('the backend makes no fences');
      const first = await lease(a, k, { ttl: t(5000) });
      await first.release();
      const second = await lease(b, k, { ttl: t(5000) });
      expect(await b.saveState!({ key: k, owner: second.token, fence: second.fence, value: 'new' })).toBe(
        true,
      );
      // The holder itself, with a stale fence (a write that was delayed in flight).
      expect(await b.saveState!({ key: k, owner: second.token, fence: first.fence, value: 'old' })).toBe(
        false,
      );
      expect((await a.loadState!(k))?.value).toBe('new');
      await second.release();
      await a.deleteState!(k);
    });

    it('a permit holder cannot save: only a plain lease', async (ctx) => {
      const { a, k } = await withState(ctx);
      if ((s.guarantees().maxLimit ?? 1) < 2) ctx.skip('the backend serves no permits');
      const p = await lease(a, k, { ttl: t(5000), limit: 2 });
      expect(await a.saveState!({ key: k, owner: p.token, fence: fenceOf(p), value: 'permit' })).toBe(false);
      await p.release();
    });

    it('keys are independent, and values round-trip exactly (unicode, the largest allowed)', async (ctx) => {
      const { a, b, k } = await withState(ctx);
      const k2 = `${k}:2`;
      const [l1, l2] = [await lease(a, k, { ttl: t(5000) }), await lease(a, k2, { ttl: t(5000) })];
      const odd = `{"cursor":"é€😀 \\" \\\\ \n\t ${'ß'.repeat(50)}"}`;
      const pad = 'x'.repeat(MAX_STATE_LENGTH - Buffer.byteLength('€'.repeat(10), 'utf8'));
      const largest = `${'€'.repeat(10)}${pad}`;
      expect(Buffer.byteLength(largest, 'utf8')).toBe(MAX_STATE_LENGTH);
      expect(await a.saveState!({ key: k, owner: l1.token, fence: fenceOf(l1), value: odd })).toBe(true);
      expect(await a.saveState!({ key: k2, owner: l2.token, fence: fenceOf(l2), value: largest })).toBe(true);
      expect((await b.loadState!(k))?.value).toBe(odd);
      expect((await b.loadState!(k2))?.value).toBe(largest);
      await b.deleteState!(k);
      expect((await b.loadState!(k2))?.value).toBe(largest);
      await b.deleteState!(k2);
      await Promise.all([l1.release(), l2.release()]);
    });

    it('iterate resumes on another backend object from the cursor the first one saved', async (ctx) => {
      const { a, b, k } = await withState(ctx);
      const ids = [2, 3, 5, 7, 11, 13, 17, 19];
      const seen: number[] = [];
      const step = async (after: number) => {
        const chunk = ids.filter((id) => id > after).slice(0, 2);
        seen.push(...chunk);
        return chunk.at(-1) ?? null;
      };
      let stuck!: () => void;
      const stuckAt = new Promise<void>((resolve) => {
        stuck = resolve;
      });
      const first = iterate(a, k, {
        start: 0,
        ttl: t(5000),
        onError: () => {},
        step: async (after: number) => {
          if (seen.length < 4) return step(after);
          // The runner dies in its third chunk: nothing of that chunk is saved.
          await stuckAt;
          throw new Error('killed mid-chunk');
        },
      });
      expect(await eventually(async () => (await iterationProgress(b, k))?.cursor === 7)).toBe(true);
      const stopping = first.stop();
      stuck();
      await stopping;
      const second = iterate(b, k, { start: 0, ttl: t(5000), step });
      try {
        expect(await eventually(async () => (await iterationProgress(b, k))?.caughtUp === true)).toBe(true);
        expect(seen).toEqual(ids);
      } finally {
        await second.stop();
        await b.deleteState!(k);
      }
    });
  });
}
