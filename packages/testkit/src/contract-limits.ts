import {
  CapabilityUnsupportedError,
  type Guarantees,
  LimitMismatchError,
  type LockBackend,
  lease,
  limitConcurrency,
  tryLease,
} from '@oncelock/core';
import { newToken } from '@oncelock/core/backend';
import { describe, expect, it } from 'vitest';
import { delay } from './waits.js';

/** What the limit cases need from the contract suite around them. */
export interface SuiteParts {
  make(): Promise<LockBackend>;
  /** Two contenders (a backend and its peer) for one fresh key named after `name`. */
  pair(name: string): Promise<{ a: LockBackend; b: LockBackend; k: string }>;
  key(name: string): string;
  /** Scales a time by the suite's `timeScale`. */
  t(ms: number): number;
  guarantees(): Guarantees;
}

/**
 * The contract of a concurrency limit (`limit` > 1: at most that many holders of a key). Cases
 * run on backends that declare `maxLimit` of at least 3; the others must refuse a limit with a
 * typed error before any round trip.
 */
export function limitCases(s: SuiteParts): void {
  const { make, pair, key, t } = s;
  const serves = (ctx: { skip: (note?: string) => void }) => {
    if ((s.guarantees().maxLimit ?? 1) < 3) ctx.skip('the backend declares no concurrency limits');
  };

  describe('concurrency limits', () => {
    it('a backend without limits refuses one with a typed error, before any round trip', async (ctx) => {
      if ((s.guarantees().maxLimit ?? 1) >= 3) ctx.skip('the backend serves limits');
      const a = await make();
      await expect(lease(a, key('no-limits'), { ttl: t(1000), limit: 3 })).rejects.toBeInstanceOf(
        CapabilityUnsupportedError,
      );
      expect(() => limitConcurrency(async () => 1, { backend: a, key: 'k', limit: 3 })).toThrow(
        CapabilityUnsupportedError,
      );
    });

    it('grants at most `limit` permits, each its own lease with a strictly greater fence', async (ctx) => {
      serves(ctx);
      const { a, b, k } = await pair('limit');
      const permits = [
        await lease(a, k, { ttl: t(5000), limit: 3 }),
        await lease(b, k, { ttl: t(5000), limit: 3 }),
        await lease(a, k, { ttl: t(5000), limit: 3 }),
      ];
      expect(permits.map((p) => p.limit)).toEqual([3, 3, 3]);
      expect(new Set(permits.map((p) => p.token)).size).toBe(3);
      if (s.guarantees().fencing) {
        const fences = permits.map((p) => p.fence);
        expect(fences).toEqual([...fences].sort((x, y) => x - y));
        expect(new Set(fences).size).toBe(3);
      }
      expect(await tryLease(b, k, { ttl: t(5000), limit: 3 })).toBeNull();
      // One frees: the next is granted, with a fence above every earlier one.
      await permits[1]!.release();
      const next = await lease(b, k, { ttl: t(5000), limit: 3 });
      if (s.guarantees().fencing) expect(next.fence).toBeGreaterThan(permits[2]!.fence);
      await Promise.all([...permits, next].map((p) => p.release()));
    });

    it('each permit expires on its own, whatever the other holders do', async (ctx) => {
      serves(ctx);
      const { a, b, k } = await pair('limit-ttl');
      const short = await lease(a, k, { ttl: t(300), limit: 2, autoExtend: false });
      const long = await lease(a, k, { ttl: t(10_000), limit: 2 });
      expect(await tryLease(b, k, { ttl: t(5000), limit: 2 })).toBeNull();
      await delay(t(300) + t(150));
      expect(short.held).toBe(false);
      const taken = await lease(b, k, { ttl: t(5000), limit: 2 });
      expect(long.held).toBe(true);
      await Promise.all([taken.release(), long.release()]);
    });

    it('a waiter gets the permit a holder releases, promptly', async (ctx) => {
      serves(ctx);
      const { a, b, k } = await pair('limit-wait');
      const held = [
        await lease(a, k, { ttl: t(10_000), limit: 2 }),
        await lease(a, k, { ttl: t(10_000), limit: 2 }),
      ];
      const waiting = lease(b, k, { ttl: t(5000), limit: 2, wait: t(8000) });
      await delay(t(200));
      const released = performance.now();
      await held[0]!.release();
      const got = await waiting;
      // Woken by the release, not by the end of a TTL (10 s) or of the wait (8 s).
      expect(performance.now() - released).toBeLessThan(t(3000));
      await Promise.all([got.release(), held[1]!.release()]);
    });

    it('holders that ask with different limits get LimitMismatchError, and a plain lease is limit 1', async (ctx) => {
      serves(ctx);
      const { a, b, k } = await pair('limit-mismatch');
      const permit = await lease(a, k, { ttl: t(5000), limit: 3 });
      const error = await lease(b, k, { ttl: t(5000), limit: 4 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitMismatchError);
      expect(error).toMatchObject({ limit: 3, requested: 4 });
      await expect(lease(b, k, { ttl: t(5000) })).rejects.toBeInstanceOf(LimitMismatchError);
      await permit.release();
      const plain = await lease(a, k, { ttl: t(5000) });
      await expect(lease(b, k, { ttl: t(5000), limit: 3 })).rejects.toMatchObject({ limit: 1, requested: 3 });
      await plain.release();
    });

    it('re-entrant per owner, extended by the heartbeat, released exactly once', async (ctx) => {
      serves(ctx);
      const { a, b, k } = await pair('limit-owner');
      const owner = newToken();
      const first = await lease(a, k, { ttl: t(600), limit: 2, owner });
      const again = await lease(a, k, { ttl: t(600), limit: 2, owner, autoExtend: false });
      if (s.guarantees().fencing) expect(again.fence).toBe(first.fence);
      again.detach();
      await delay(t(600) * 2);
      expect(first.held).toBe(true);
      const other = await lease(b, k, { ttl: t(5000), limit: 2 });
      expect(await tryLease(b, k, { ttl: t(5000), limit: 2 })).toBeNull();
      expect(await first.release()).toBe(true);
      expect(await first.release()).toBe(true);
      await other.release();
    });

    it('inspect shows every holder and the limit; list shows each permit', async (ctx) => {
      serves(ctx);
      const a = await make();
      const k = key('limit-inspect');
      const permits = [
        await lease(a, k, { ttl: t(5000), limit: 3 }),
        await lease(a, k, { ttl: t(5000), limit: 3 }),
      ];
      const seen = await a.inspect(k);
      expect(seen?.limit).toBe(3);
      expect(seen?.holders?.map((h) => h.owner).sort()).toEqual(permits.map((p) => p.token).sort());
      if (a.list) {
        const rows = (await a.list(k)).filter((r) => r.key === k);
        expect(rows.map((r) => r.owner).sort()).toEqual(permits.map((p) => p.token).sort());
        expect(rows.every((r) => r.limit === 3)).toBe(true);
      }
      await Promise.all(permits.map((p) => p.release()));
      expect(await a.inspect(k)).toBeNull();
    });

    it('limitConcurrency runs at most `limit` calls per key at once and cancels the rest', async (ctx) => {
      serves(ctx);
      const a = await make();
      let running = 0;
      let most = 0;
      // The calls that run hold their permits until the other two are decided: with a fixed hold, a
      // call slowed down on a loaded machine could come after a permit was given back and run.
      let cancelled = 0;
      let decided!: () => void;
      const allDecided = new Promise<void>((resolve) => {
        decided = resolve;
      });
      const call = limitConcurrency(
        async () => {
          running++;
          most = Math.max(most, running);
          // Bounded, so that a backend that lets a third call run fails the checks below, not by hanging.
          await Promise.race([allDecided, delay(t(5000))]);
          running--;
          return 'done';
        },
        { backend: a, key: key('limit-wrapper'), limit: 2, ttl: t(10_000) },
      );
      const counted = () =>
        call().then((r) => {
          if (r.status === 'cancelled' && ++cancelled === 2) decided();
          return r;
        });
      const results = await Promise.all([counted(), counted(), counted(), counted()]);
      expect(results.filter((r) => r.status === 'ran')).toHaveLength(2);
      expect(results.filter((r) => r.status === 'cancelled')).toEqual([
        { status: 'cancelled', reason: 'limited' },
        { status: 'cancelled', reason: 'limited' },
      ]);
      expect(most).toBe(2);
    });
  });
}
