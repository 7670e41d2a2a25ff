import {
  BackendClosedError,
  LockLostError,
  lease,
  OncelockError,
  once,
  runOnceOrCancel,
  tryLease,
  withLease,
} from '@oncelock/core';
import { describe, expect, it } from 'vitest';
import { deadline } from '../src/deadline.js';
import { catalogue } from './catalogue.js';

// Calling after close(), on every backend: each call rejects with BackendClosedError at once,
// nothing hangs, a lease still held when its backend closes ends by itself (its signal fires,
// and the key is free for others at its TTL), and a wait in progress ends with a typed error.

const entries = catalogue('closed');
const bound = <T>(p: Promise<T>, what: string) => deadline(p, 10_000, what);

describe.each(entries)('after close(): $name', (entry) => {
  it('every call rejects with BackendClosedError, and close() is idempotent', async () => {
    const backend = entry.create();
    await bound(backend.close(), 'close');
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['acquire', () => backend.acquire({ key: 'closed:k', owner: 'o', ttl: 1000 })],
      ['extend', () => backend.extend({ key: 'closed:k', owner: 'o', ttl: 1000 })],
      ['release', () => backend.release({ key: 'closed:k', owner: 'o' })],
      ['inspect', () => backend.inspect('closed:k')],
      ['lease', () => lease(backend, 'closed:k', { ttl: 1000, wait: 5000 })],
      ['tryLease', () => tryLease(backend, 'closed:k', { ttl: 1000 })],
      ['withLease', () => withLease(backend, 'closed:k', () => 1, { ttl: 1000 })],
      ['once.run', () => once(backend, { key: 'closed:k', mode: 'whileRunning' }).run(() => 1)],
      [
        'runOnceOrCancel',
        () => runOnceOrCancel(async () => 1, { backend, key: () => 'closed:k', ttl: 1000 })(),
      ],
    ];
    if (backend.extendMany)
      calls.push(['extendMany', () => backend.extendMany!([{ key: 'k', owner: 'o', ttl: 10 }])]);
    if (backend.list) calls.push(['list', () => backend.list!('')]);
    if (backend.subscribe) calls.push(['subscribe', () => backend.subscribe!('closed:k', () => {})]);
    for (const [what, call] of calls) {
      const error = await bound(call(), what).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(BackendClosedError);
    }
    await bound(backend.close(), 'second close');
  });

  it('a lease held at close ends: its signal has fired by the time close() resolves, release says false, the key is free at once', async () => {
    const backend = entry.create();
    const other = entry.peer(backend) === backend ? undefined : entry.peer(backend);
    const ttl = 60_000;
    const held = await bound(lease(backend, 'closed:held', { ttl }), 'lease');
    await bound(backend.close(), 'close');
    // close() ended the lease itself, saying why, before it let go of the store.
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toBeInstanceOf(LockLostError);
    expect((held.signal.reason as Error).message).toMatch(/its backend was closed/);
    expect(() => held.assertHeld()).toThrow(LockLostError);
    // Released by close(): the handle's own release sends nothing and says it no longer held the key.
    expect(await bound(held.release(), 'release after close')).toBe(false);
    if (other) {
      // Nothing stays stuck until the 60 s TTL: another contender gets the key now.
      const next = await bound(lease(other, 'closed:held', { ttl: 5000 }), 'take at once');
      expect(await next.release()).toBe(true);
    }
  });

  it('a wait in progress when the backend closes ends with a typed error, long before its deadline', async () => {
    const backend = entry.create();
    const holder = await bound(lease(backend, 'closed:wait', { ttl: 30_000 }), 'holder');
    const started = performance.now();
    const waiting = lease(backend, 'closed:wait', { ttl: 1000, wait: 60_000 }).then(
      () => 'granted',
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 100));
    await bound(backend.close(), 'close');
    const outcome = await deadline(waiting, 15_000, 'the waiter');
    expect(outcome).toBeInstanceOf(OncelockError);
    expect((outcome as OncelockError).code).toBe('ONCELOCK_CLOSED');
    expect(performance.now() - started).toBeLessThan(15_000);
    await holder.release().catch(() => false);
  });
});
