import {
  BackendClosedError,
  CapabilityUnsupportedError,
  InvalidArgumentError,
  type Lease,
  type LockBackend,
  LockLostError,
  LockNotAcquiredError,
  lease,
  runOnceOrCancel,
  WaitAbortedError,
  WaitTimeoutError,
} from '@oncelock/core';
import { newToken } from '@oncelock/core/backend';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { limitCases } from './contract-limits.js';
import { loopCases } from './contract-loops.js';
import { rateCases } from './contract-rate.js';
import { aborted, delay, eventually } from './waits.js';

export interface ContractOptions {
  /** Shown in the test names: `backend contract: redis-cluster`. */
  name: string;
  /** Makes a fresh backend. Called for each test; the suite closes what it makes. */
  create: () => LockBackend | Promise<LockBackend>;
  /**
   * How a second contender gets its backend, given the first one. Default: `create()`, which
   * for a networked store means a separate connection. The in-process memory backend passes
   * `(first) => first`, since separate memory backends share nothing.
   */
  peer?: (first: LockBackend) => LockBackend | Promise<LockBackend>;
  /** Multiplies every TTL and wait in the suite, for slow stores (Redlock over five nodes). Default 1. */
  timeScale?: number;
  /** Runs once before the suite (start servers), and after it (stop them). */
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

/**
 * Registers the backend contract suite: the behaviour every oncelock backend must have.
 * Tests that need a guarantee the backend declares it lacks (fencing, strict exclusion,
 * release notifications) are skipped by name, never silently weakened.
 *
 * @example
 * backendContract({ name: 'redis', create: () => redisBackend({ url }) });
 */
export function backendContract(options: ContractOptions): void {
  const scale = options.timeScale ?? 1;
  const t = (ms: number) => Math.round(ms * scale);
  const made: LockBackend[] = [];
  const make = async () => {
    const b = await options.create();
    made.push(b);
    return b;
  };
  const peerOf = async (first: LockBackend) => {
    const b = options.peer ? await options.peer(first) : await options.create();
    if (b !== first) made.push(b);
    return b;
  };
  // Keys are unique per test so that suites running in parallel, or leftovers, never collide.
  const key = (name: string) => `contract:${name}:${newToken().slice(0, 12)}`;
  // Two contenders for one fresh key: the first backend, its peer, and the key.
  const pair = async (name: string) => {
    const a = await make();
    return { a, b: await peerOf(a), k: key(name) };
  };

  describe(`backend contract: ${options.name}`, () => {
    let probe: LockBackend;
    beforeAll(async () => {
      await options.setup?.();
      probe = await make();
    });
    afterEach(async () => {
      const open = made.splice(1);
      await Promise.all(open.map((b) => b.close().catch(() => {})));
    });
    afterAll(async () => {
      await Promise.all(made.map((b) => b.close().catch(() => {})));
      await options.teardown?.();
    });

    const g = () => probe.guarantees;
    const fencing = () => g().fencing;
    const strict = () => g().exclusion !== 'best-effort';
    // The guarantees are known only once a backend exists, so these tests skip at run time.
    const onlyIf = (holds: () => boolean, ctx: { skip: (note?: string) => void }) => {
      if (!holds()) ctx.skip(`${options.name} does not declare it`);
    };

    it('acquires, refuses while held, and releases', async () => {
      const { a, b, k } = await pair('basic');
      const l = await lease(a, k, { ttl: t(5000) });
      await expect(lease(b, k, { ttl: t(5000) })).rejects.toBeInstanceOf(LockNotAcquiredError);
      expect(await l.release()).toBe(true);
      const again = await lease(b, k, { ttl: t(5000) });
      expect(again.held).toBe(true);
      await again.release();
    });

    it('keeps independent keys independent', async () => {
      const a = await make();
      const [l1, l2] = await Promise.all([
        lease(a, key('a'), { ttl: t(5000) }),
        lease(a, key('b'), { ttl: t(5000) }),
      ]);
      expect(l1.held && l2.held).toBe(true);
      await Promise.all([l1.release(), l2.release()]);
    });

    it('re-acquires right after release, ten times over', async () => {
      const { a, b, k } = await pair('again');
      for (let i = 0; i < 10; i++) {
        const l = await lease(i % 2 ? a : b, k, { ttl: t(5000) });
        expect(await l.release()).toBe(true);
      }
    });

    it('is re-entrant for the same owner, keeping the fence', async () => {
      const a = await make();
      const k = key('reentrant');
      const owner = newToken();
      const first = await a.acquire({ key: k, owner, ttl: t(5000) });
      const second = await a.acquire({ key: k, owner, ttl: t(5000) });
      expect(first.granted && second.granted).toBe(true);
      if (fencing() && first.granted && second.granted) expect(second.fence).toBe(first.fence);
      const other = await a.acquire({ key: k, owner: newToken(), ttl: t(5000) });
      expect(other.granted).toBe(false);
      expect(await a.release({ key: k, owner })).toBe(true);
    });

    it('expires at its TTL, not before, and can then be re-acquired', async () => {
      const { a, b, k } = await pair('expiry');
      const ttl = t(600);
      await lease(a, k, { ttl, autoExtend: false });
      await delay(ttl / 3);
      expect(await b.acquire({ key: k, owner: newToken(), ttl })).toMatchObject({ granted: false });
      await delay(ttl + t(150));
      const l = await lease(b, k, { ttl: t(5000) });
      expect(l.held).toBe(true);
      await l.release();
    });

    it('extend keeps a lease past its first TTL, several times', async () => {
      const { a, b, k } = await pair('extend');
      const ttl = t(800);
      const l = await lease(a, k, { ttl, autoExtend: false });
      // Extending at a quarter of the TTL leaves three quarters of slack for a busy machine.
      for (let i = 0; i < 8; i++) {
        await delay(ttl / 4);
        await l.extend();
      }
      // 8 × ttl/4 = twice the first TTL has passed: without the extensions it would be free.
      expect(await b.acquire({ key: k, owner: newToken(), ttl })).toMatchObject({ granted: false });
      expect(l.held).toBe(true);
      expect(await l.release()).toBe(true);
    });

    it('auto-extension keeps a lease held across many TTLs', async () => {
      const { a, b, k } = await pair('auto');
      const ttl = t(600);
      const l = await lease(a, k, { ttl });
      await delay(ttl * 3);
      expect(l.held).toBe(true);
      expect(l.signal.aborted).toBe(false);
      expect(await b.acquire({ key: k, owner: newToken(), ttl })).toMatchObject({ granted: false });
      await l.release();
    });

    it('a stale holder cannot extend or release after expiry and re-acquisition by another', async () => {
      const { a, b, k } = await pair('stale');
      const ttl = t(300);
      const stale = newToken();
      expect((await a.acquire({ key: k, owner: stale, ttl })).granted).toBe(true);
      await delay(ttl + t(100));
      const fresh = await lease(b, k, { ttl: t(5000) });
      expect(await a.extend({ key: k, owner: stale, ttl: t(5000) })).toBe(false);
      expect(await a.release({ key: k, owner: stale })).toBe(false);
      const holder = await b.inspect(k);
      expect(holder?.owner).toBe(fresh.token);
      expect(await fresh.release()).toBe(true);
    });

    it('fences strictly increase per key across release and expiry', async (ctx) => {
      onlyIf(fencing, ctx);
      const { a, b, k } = await pair('fence');
      const fences: number[] = [];
      for (let i = 0; i < 5; i++) {
        const l = await lease(i % 2 ? a : b, k, { ttl: t(5000) });
        fences.push(l.fence);
        await l.release();
      }
      const short = await lease(a, k, { ttl: t(200), autoExtend: false });
      fences.push(short.fence);
      await delay(t(300));
      const after = await lease(b, k, { ttl: t(5000) });
      fences.push(after.fence);
      await after.release();
      for (let i = 1; i < fences.length; i++) expect(fences[i]!).toBeGreaterThan(fences[i - 1]!);
      for (const f of fences) expect(Number.isSafeInteger(f)).toBe(true);
    });

    it('a backend without fencing refuses to hand out fences, with a typed error', async (ctx) => {
      onlyIf(() => !fencing(), ctx);
      const a = await make();
      const l = await lease(a, key('nofence'), { ttl: t(5000) });
      expect(() => l.fence).toThrow(CapabilityUnsupportedError);
      await expect(
        lease(a, key('nofence2'), { ttl: t(5000), require: { fencing: true } }),
      ).rejects.toBeInstanceOf(CapabilityUnsupportedError);
      await l.release();
    });

    it('a best-effort backend refuses a request for strict exclusion, with a typed error', async (ctx) => {
      onlyIf(() => !strict(), ctx);
      const a = await make();
      await expect(
        lease(a, key('strict'), { ttl: t(5000), require: { exclusion: 'strict' } }),
      ).rejects.toBeInstanceOf(CapabilityUnsupportedError);
    });

    it('8 contenders x 200 critical sections around an unprotected read-modify-write lose no update', async (ctx) => {
      onlyIf(strict, ctx);
      const first = await make();
      const backends = [first, ...(await Promise.all(Array.from({ length: 7 }, () => peerOf(first))))];
      const k = key('counter');
      let counter = 0;
      let inside = 0;
      let overlaps = 0;
      await Promise.all(
        backends.map(async (b) => {
          for (let i = 0; i < 200; i++) {
            const l = await lease(b, k, { ttl: t(10_000), wait: t(60_000) });
            inside++;
            if (inside > 1) overlaps++;
            const read = counter;
            await new Promise((r) => setImmediate(r)); // let every other contender run here
            counter = read + 1;
            inside--;
            await l.release();
          }
        }),
      );
      expect(overlaps).toBe(0);
      expect(counter).toBe(1600);
    }, 180_000);

    it('a waiter wakes promptly after release', async () => {
      const { a, b, k } = await pair('wake');
      const holder = await lease(a, k, { ttl: t(30_000) });
      const waiting = lease(b, k, { ttl: t(5000), wait: t(20_000) });
      await delay(t(300)); // the waiter is asleep now, well inside its fallback poll
      const releasedAt = performance.now();
      await holder.release();
      const l = await waiting;
      const handoff = performance.now() - releasedAt;
      // With notifications the waiter must beat its own ~1 s fallback poll; polling backends back off to 0.5 s.
      expect(handoff).toBeLessThan(g().releaseNotifications ? t(500) : t(1500));
      await l.release();
    });

    it('gives up waiting with a typed timeout error', async () => {
      const { a, b, k } = await pair('timeout');
      const holder = await lease(a, k, { ttl: t(30_000) });
      const start = performance.now();
      await expect(lease(b, k, { ttl: t(5000), wait: t(300) })).rejects.toBeInstanceOf(WaitTimeoutError);
      expect(performance.now() - start).toBeGreaterThanOrEqual(t(300) - 5);
      await holder.release();
    });

    it('an AbortSignal cancels a wait promptly', async () => {
      const { a, b, k } = await pair('abort');
      const holder = await lease(a, k, { ttl: t(30_000) });
      const controller = new AbortController();
      const waiting = lease(b, k, { ttl: t(5000), wait: t(20_000), signal: controller.signal });
      await delay(t(100));
      const abortedAt = performance.now();
      controller.abort(new Error('shutting down'));
      const error = await waiting.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitAbortedError);
      expect((error as WaitAbortedError).cause).toBeInstanceOf(Error);
      expect(performance.now() - abortedAt).toBeLessThan(t(1000));
      await holder.release();
    });

    it('a lost lease fires its signal with a LockLostError', async () => {
      const a = await make();
      const k = key('lost');
      const ttl = t(300);
      const l = await lease(a, k, { ttl, autoExtend: false });
      const reason = await aborted(l.signal);
      expect(reason).toBeInstanceOf(LockLostError);
      expect(l.held).toBe(false);
      expect(() => l.assertHeld()).toThrow(LockLostError);
      await expect(l.extend()).rejects.toBeInstanceOf(LockLostError);
    });

    it('a lease taken over in the store fires its signal at the next heartbeat', async () => {
      const { a, b, k } = await pair('takeover');
      const ttl = t(600);
      const l = await lease(a, k, { ttl });
      // Another owner force-releases with the stolen token and takes the key: the next extension must fail.
      expect(await b.release({ key: k, owner: l.token })).toBe(true);
      const thief = await lease(b, k, { ttl: t(5000) });
      const reason = await aborted(l.signal);
      expect(reason).toBeInstanceOf(LockLostError);
      expect((await b.inspect(k))?.owner).toBe(thief.token);
      await thief.release();
    });

    it('inspect shows holder, TTL and fence, and null when free', async () => {
      const a = await make();
      const k = key('inspect');
      expect(await a.inspect(k)).toBeNull();
      const l = await lease(a, k, { ttl: t(5000), autoExtend: false });
      const h = await a.inspect(k);
      expect(h?.owner).toBe(l.token);
      expect(h?.ttlRemaining).toBeGreaterThan(0);
      expect(h?.ttlRemaining).toBeLessThanOrEqual(t(5000));
      if (fencing()) expect(h?.fence).toBe(l.fence);
      await l.release();
      expect(await a.inspect(k)).toBeNull();
    });

    it('release by a non-owner changes nothing', async () => {
      const a = await make();
      const k = key('forged');
      const l = await lease(a, k, { ttl: t(5000) });
      expect(await a.release({ key: k, owner: newToken() })).toBe(false);
      expect(await a.extend({ key: k, owner: newToken(), ttl: t(5000) })).toBe(false);
      expect((await a.inspect(k))?.owner).toBe(l.token);
      await l.release();
    });

    it('refuses bad input with a typed error before any round trip', async () => {
      const a = await make();
      let calls = 0;
      const counting = new Proxy(a, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          if (typeof v === 'function') {
            return (...args: unknown[]) => {
              calls++;
              return v.apply(target, args);
            };
          }
          return v;
        },
      });
      const bad: Array<[unknown, unknown]> = [
        ['', { ttl: 1000 }],
        [42, { ttl: 1000 }],
        [undefined, { ttl: 1000 }],
        ['x'.repeat(5000), { ttl: 1000 }],
        ['ok', { ttl: 0 }],
        ['ok', { ttl: Number.NaN }],
        ['ok', { ttl: -5 }],
        ['ok', { ttl: 1e15 }],
        ['ok', { ttl: 1.5 }],
        ['ok', { ttl: '1000' }],
        ['ok', {}],
        ['ok', { ttl: 1000, wait: -1 }],
        ['ok', { ttl: 1000, wait: 'soon' }],
        ['ok', { ttl: 1000, signal: {} }],
        ['ok', { ttl: 1000, autoExtend: 'yes' }],
        ['ok', { ttl: 1000, owner: '' }],
        ['nul\0key', { ttl: 1000 }],
        ['ok', { ttl: 1000, owner: 'nul\0owner' }],
        ['ok', null],
      ];
      for (const [k, o] of bad) {
        await expect(lease(counting, k as string, o as { ttl: number })).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
      }
      const scan = runOnceOrCancel(async (x: unknown) => x, {
        backend: counting,
        key: (x) => String(x).slice(0, 0),
      });
      await expect(scan(1)).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(calls).toBe(0);
    });

    it('after close(), calls reject with BackendClosedError and nothing hangs', async () => {
      const a = await make();
      await a.close();
      await a.close(); // idempotent
      await expect(lease(a, key('closed'), { ttl: t(1000) })).rejects.toBeInstanceOf(BackendClosedError);
      await expect(a.inspect(key('closed'))).rejects.toBeInstanceOf(BackendClosedError);
    });

    limitCases({ make, pair, key, t, guarantees: g });
    loopCases({ make, pair, key, t, guarantees: g });
    rateCases({ make, pair, key, t, guarantees: g });

    it('close() ends the leases still held, with a reason, and frees their keys at once', async (ctx) => {
      const a = await make();
      const b = await peerOf(a);
      if (b === a) ctx.skip('one in-process store: nothing outlives its close()');
      const k = key('close-held');
      const held = await lease(a, k, { ttl: t(60_000) });
      const signal = held.signal;
      await a.close();
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(LockLostError);
      expect(held.held).toBe(false);
      // Free now, not at the end of its 60 s TTL.
      expect(await b.inspect(k)).toBeNull();
      const next = await lease(b, k, { ttl: t(5000) });
      await next.release();
    });

    it('runOnceOrCancel runs one call per key and cancels the overlapping one', async () => {
      const { a, b, k } = await pair('roc');
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const job = async (n: number) => {
        await gate;
        return n * 2;
      };
      const first = runOnceOrCancel(job, { backend: a, key: k, ttl: t(5000) })(21);
      // Only once the first call holds the key: on a slow or busy store a fixed pause may not be
      // enough, and the second call would take the key and wait on the gate itself.
      expect(await eventually(async () => (await a.inspect(k)) !== null, t(10_000))).toBe(true);
      const second = await runOnceOrCancel(async (n: number) => n, {
        backend: b,
        key: () => k,
        ttl: t(5000),
      })(1);
      expect(second).toMatchObject({ status: 'cancelled', reason: 'locked' });
      release();
      expect(await first).toEqual({ status: 'ran', value: 42 });
      const failing = runOnceOrCancel(
        async () => {
          throw new Error('boom');
        },
        { backend: a, key: k },
      );
      await expect(failing()).rejects.toThrow('boom');
      expect(await a.inspect(k)).toBeNull(); // released after the error
    });

    it('a released lease is reported through its signal and release is idempotent', async () => {
      const a = await make();
      const l: Lease = await lease(a, key('idem'), { ttl: t(5000) });
      expect(await l.release()).toBe(true);
      expect(await l.release()).toBe(true);
      expect(l.signal.aborted).toBe(true);
      expect(l.held).toBe(false);
    });
  });
}
