import {
  BackendUnavailableError,
  type Lease,
  LockLostError,
  lease,
  memoryBackend,
  onEvent,
  tryLease,
  withLease,
} from '@oncelock/core';
import { describe, expect, it } from 'vitest';
import { faulty } from './faulty.js';

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('lease', () => {
  it('has a 128-bit random hex token, different for every lease', async () => {
    const b = memoryBackend();
    const tokens = new Set<string>();
    // 600 tokens: more than two refills of the pool of random bytes they are cut from.
    for (let i = 0; i < 600; i++) {
      const l = await lease(b, `k${i}`, { ttl: 1000 });
      expect(l.token).toMatch(/^[0-9a-f]{32}$/);
      tokens.add(l.token);
      await l.release();
    }
    expect(tokens.size).toBe(600);
    // Every position takes every hex digit somewhere: no byte of the pool is stuck or reused.
    for (let at = 0; at < 32; at++) {
      expect(new Set([...tokens].map((t) => t[at])).size, `position ${at}`).toBe(16);
    }
  });

  it('a grant that arrives after its TTL counts as refused, and is given back', async () => {
    const { backend, state } = faulty(memoryBackend());
    state.acquireDelay = 150;
    expect(await tryLease(backend, 'slow', { ttl: 100 })).toBeNull();
    // It was tried with an extend, which found it gone (its TTL had run out in the store).
    expect(state.extendCalls).toBeGreaterThan(0);
    expect(await backend.inspect('slow')).toBeNull();
  });

  it('a grant handed over at a release counts its validity from the earlier request the store names', async () => {
    const { backend, state } = faulty(memoryBackend());
    state.handedEarlier = 400;
    const l = await lease(backend, 'handed', { ttl: 1000, autoExtend: false });
    // Counted from 400 ms before the call, not from the call: under 600 ms are left.
    expect(l.remaining()).toBeLessThan(600);
    expect(l.remaining()).toBeGreaterThan(300);
    await l.release();
    // An answer later than the send time changes nothing: validity never starts after the request.
    state.handedEarlier = -5000;
    const late = await lease(backend, 'handed', { ttl: 1000, autoExtend: false });
    expect(late.remaining()).toBeLessThanOrEqual(1000);
    expect(late.remaining()).toBeGreaterThan(600);
    await late.release();
  });

  it('a handed grant whose local validity has run out is kept by an extend while the store holds it', async () => {
    const { backend, state } = faulty(memoryBackend());
    state.handedEarlier = 1000;
    const kept = await tryLease(backend, 'handed-stale', { ttl: 500, autoExtend: false });
    expect(kept).not.toBeNull();
    // One extend, and validity counted from it: nearly the whole TTL, not a second spent.
    expect(state.extendCalls).toBe(1);
    expect(kept!.remaining()).toBeGreaterThan(400);
    expect((await backend.inspect('handed-stale'))?.owner).toBe(kept!.token);
    expect((await backend.inspect('handed-stale'))?.fence).toBe(kept!.fence);
    await kept!.release();
  });

  it('a handed grant whose local validity has run out is given back when its extend fails', async () => {
    const { backend, state } = faulty(memoryBackend());
    state.handedEarlier = 1000;
    state.extendFails = true;
    expect(await tryLease(backend, 'handed-lost', { ttl: 500 })).toBeNull();
    expect(state.extendCalls).toBeGreaterThan(0);
    expect(await backend.inspect('handed-lost')).toBeNull();
  });

  it('one heartbeat loop extends many leases in batches, not a round trip per lease', async () => {
    const { backend, state } = faulty(memoryBackend());
    const leases: Lease[] = [];
    for (let i = 0; i < 1000; i++) leases.push(await lease(backend, `many:${i}`, { ttl: 1500 }));
    await delay(3000);
    expect(leases.every((l) => l.held)).toBe(true);
    expect(state.extendCalls).toBe(0);
    // ~3000 ms at one tick per ttl/3 = 500 ms: about six batches for a thousand leases.
    expect(state.extendManyCalls).toBeGreaterThanOrEqual(3);
    expect(state.extendManyCalls).toBeLessThanOrEqual(15);
    expect(state.extendedLeases / state.extendManyCalls).toBeGreaterThan(500);
    await Promise.all(leases.map((l) => l.release()));
  });

  it('failed extensions fire the signal before local validity ends, and nothing throws from a timer', async () => {
    const { backend, state } = faulty(memoryBackend());
    const l = await lease(backend, 'flaky', { ttl: 400 });
    const acquiredAt = performance.now();
    state.extendFails = true;
    const reason = await new Promise((r) => l.signal.addEventListener('abort', () => r(l.signal.reason)));
    const lostAfter = performance.now() - acquiredAt;
    expect(reason).toBeInstanceOf(LockLostError);
    // The store keeps it for 400 ms from the request; the lease must give up before that.
    expect(lostAfter).toBeLessThan(400);
    expect(state.extendManyCalls).toBeGreaterThan(1); // it retried before giving up
  });

  it('a manual extend against an unreachable store throws a typed error', async () => {
    const { backend, state } = faulty(memoryBackend());
    const l = await lease(backend, 'manual', { ttl: 1000, autoExtend: false });
    state.extendFails = true;
    await expect(l.extend()).rejects.toBeInstanceOf(BackendUnavailableError);
    state.extendFails = false;
    await l.extend(2000);
    expect(l.ttl).toBe(2000);
    await l.release();
  });

  it('a process that was blocked past its TTL sees the lease lost at once, before any timer runs', async () => {
    const b = memoryBackend();
    const l = await lease(b, 'frozen', { ttl: 200 });
    const until = performance.now() + 300;
    while (performance.now() < until) {
      // Block the event loop, as a long GC pause or SIGSTOP would: no timer can run here.
    }
    expect(l.held).toBe(false);
    expect(() => l.assertHeld()).toThrow(LockLostError);
    expect(l.signal.aborted).toBe(true);
  });

  it('await using releases at the end of the block', async () => {
    const b = memoryBackend();
    {
      await using l = await lease(b, 'scoped', { ttl: 1000 });
      expect((await b.inspect('scoped'))?.owner).toBe(l.token);
    }
    expect(await b.inspect('scoped')).toBeNull();
  });

  it('withLease releases whether fn resolves or throws', async () => {
    const b = memoryBackend();
    expect(await withLease(b, 'w', async (l) => l.key, { ttl: 1000 })).toBe('w');
    await expect(
      withLease(b, 'w', async () => Promise.reject(new Error('no')), { ttl: 1000 }),
    ).rejects.toThrow('no');
    expect(await b.inspect('w')).toBeNull();
  });

  it('a release has fired the signal and reported itself by the time its caller resumes', async () => {
    const b = memoryBackend();
    const reported: boolean[] = [];
    const stop = onEvent('released', (e) => {
      if (e.key === 'settled') reported.push(e.wasHeld);
    });
    const read = await lease(b, 'settled', { ttl: 1000 });
    const signal = read.signal; // read while held: the abort happens on release
    expect(await read.release()).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(LockLostError);
    expect(reported).toEqual([true]);
    const unread = await lease(b, 'settled', { ttl: 1000 });
    await unread.release();
    expect(unread.signal.aborted).toBe(true); // made after the release: aborted from the start
    expect(reported).toEqual([true, true]);
    stop();
  });

  it('emits acquired, refused, waited, extended and released events with timings', async () => {
    const b = memoryBackend();
    const seen: string[] = [];
    const stop = onEvent('*', (e) => {
      if (e.key === 'ev') seen.push(e.type);
    });
    const l = await lease(b, 'ev', { ttl: 150 });
    await tryLease(b, 'ev', { ttl: 150 });
    await delay(120);
    const waiting = lease(b, 'ev', { ttl: 150, wait: 2000 });
    await delay(10);
    await l.release();
    await (await waiting).release();
    stop();
    expect(seen).toEqual(expect.arrayContaining(['acquired', 'refused', 'extended', 'released', 'waited']));
  });
});

describe('lease hand-back', () => {
  it('detach stops the heartbeat but leaves the claim in the store until its TTL', async () => {
    const b = memoryBackend();
    const l = await lease(b, 'parked', { ttl: 300 });
    l.detach();
    expect(l.held).toBe(false);
    expect(l.signal.aborted).toBe(true);
    expect((await b.inspect('parked'))?.owner).toBe(l.token);
    await delay(450);
    expect(await b.inspect('parked')).toBeNull(); // nobody extended it
  });

  it('a lost lease releases nothing: its token may already serve a newer holder', async () => {
    const b = memoryBackend();
    const owner = 'job-42';
    const first = await lease(b, 'job', { ttl: 200, autoExtend: false, owner });
    await new Promise((r) => first.signal.addEventListener('abort', r));
    await delay(50);
    const retry = await lease(b, 'job', { ttl: 5000, owner }); // the same job's next attempt
    expect(await first.release()).toBe(false);
    expect((await b.inspect('job'))?.owner).toBe(owner);
    expect(retry.held).toBe(true);
    await retry.release();
  });
});

describe('waiting through a store outage', () => {
  it('a waiter retries a store error until its deadline, then gets the typed store error', async () => {
    const { backend, state } = faulty(memoryBackend());
    const inner = backend.acquire;
    let failures = 3;
    backend.acquire = async (req) => {
      if (failures-- > 0) throw new Error('ECONNREFUSED');
      return inner(req);
    };
    const l = await lease(backend, 'blip', { ttl: 1000, wait: 5000 });
    expect(l.held).toBe(true);
    await l.release();
    failures = 1000;
    await expect(lease(backend, 'down', { ttl: 1000, wait: 300 })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
    await expect(lease(backend, 'down', { ttl: 1000 })).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(state.extendCalls).toBe(0);
  });
});
