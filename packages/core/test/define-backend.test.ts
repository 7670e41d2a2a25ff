import {
  BackendClosedError,
  BackendUnavailableError,
  type Holder,
  InvalidArgumentError,
  lease,
} from '@oncelock/core';
import { type AcquireRequest, defineBackend, type ExtendRequest } from '@oncelock/core/backend';
import { describe, expect, it } from 'vitest';

const guarantees = {
  exclusion: 'strict',
  fencing: false,
  deadHolder: 'with-process',
  frozenHolder: 'not-applicable',
  releaseNotifications: false,
} as const;

/** A store that does what each test tells it, and counts what reached it. */
function scripted(
  behaviour: {
    acquire?: () => Promise<never>;
    release?: () => Promise<never>;
    close?: () => Promise<void>;
  } = {},
) {
  const calls: string[] = [];
  const held = new Map<string, string>();
  const backend = defineBackend({
    name: 'scripted',
    pkg: 'scripted-backend',
    guarantees,
    timeout: 100,
    props: { flavour: 'plain' },
    ops: {
      async acquire({ key, owner }: AcquireRequest) {
        calls.push('acquire');
        if (behaviour.acquire) return behaviour.acquire();
        if (held.has(key) && held.get(key) !== owner) return { granted: false as const };
        held.set(key, owner);
        return { granted: true as const };
      },
      async extend({ key, owner }: ExtendRequest) {
        calls.push('extend');
        return held.get(key) === owner;
      },
      async release({ key, owner }: { key: string; owner: string }) {
        calls.push('release');
        if (behaviour.release) return behaviour.release();
        return held.get(key) === owner && held.delete(key);
      },
      async inspect(key: string): Promise<Holder | null> {
        const owner = held.get(key);
        return owner ? { owner } : null;
      },
      async count() {
        return calls.length;
      },
    },
    close: behaviour.close,
  });
  return { backend, calls };
}

describe('defineBackend', () => {
  it('makes extendMany from extend, keeps extra operations and props', async () => {
    const { backend, calls } = scripted();
    expect(backend.flavour).toBe('plain');
    await backend.acquire({ key: 'a', owner: 'o', ttl: 1000 });
    expect(
      await backend.extendMany([
        { key: 'a', owner: 'o', ttl: 1000 },
        { key: 'a', owner: 'x', ttl: 1000 },
      ]),
    ).toEqual([true, false]);
    expect(await backend.count()).toBe(calls.length);
  });

  it('wraps a store error in a typed error naming the operation, package and backend', async () => {
    const { backend } = scripted({ acquire: () => Promise.reject(new Error('ECONNRESET')) });
    const error = await backend.acquire({ key: 'a', owner: 'o', ttl: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toBe('[scripted-backend scripted] acquire failed: ECONNRESET');
    expect((error as Error).cause).toBeInstanceOf(Error);
    // An oncelock error passes through as it is.
    const typed = scripted({ acquire: () => Promise.reject(new InvalidArgumentError('no')) });
    await expect(typed.backend.acquire({ key: 'a', owner: 'o', ttl: 1000 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('bounds every call by the timeout, and a late failure is no unhandled rejection', async () => {
    let fail: (e: Error) => void = () => {};
    const { backend } = scripted({ acquire: () => new Promise((_, reject) => (fail = reject)) });
    const error = await backend.acquire({ key: 'a', owner: 'o', ttl: 1000 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/acquire failed: got no answer within 100 ms/);
    fail(new Error('late'));
  });

  it('refuses every call after close() before it reaches the store; close runs once', async () => {
    let closes = 0;
    const { backend, calls } = scripted({ close: async () => void closes++ });
    await Promise.all([backend.close(), backend.close()]);
    await expect(backend.acquire({ key: 'a', owner: 'o', ttl: 1000 })).rejects.toBeInstanceOf(
      BackendClosedError,
    );
    await expect(lease(backend, 'a', { ttl: 1000 })).rejects.toBeInstanceOf(BackendClosedError);
    expect(calls).toEqual([]);
    expect(closes).toBe(1);
  });

  it('reports a call cut short by close() as closed, not as an outage', async () => {
    let fail: (e: Error) => void = () => {};
    const { backend } = scripted({ acquire: () => new Promise((_, reject) => (fail = reject)) });
    const pending = backend.acquire({ key: 'a', owner: 'o', ttl: 1000 }).catch((e: unknown) => e);
    await backend.close();
    fail(new Error('socket closed'));
    expect(await pending).toBeInstanceOf(BackendClosedError);
  });
});

describe('close() with leases still held', () => {
  it('ends each lease with a clear reason, releases it in the store, then closes', async () => {
    let closed = false;
    const { backend, calls } = scripted({
      close: async () => {
        closed = true;
      },
    });
    const first = await lease(backend, 'report', { ttl: 60_000 });
    const second = await lease(backend, 'invoice', { ttl: 60_000, autoExtend: false });
    const signal = first.signal;
    await backend.close();
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toMatch(/lease on "report" was lost: its backend was closed/);
    expect([first.held, second.held]).toEqual([false, false]);
    expect(calls.filter((c) => c === 'release')).toHaveLength(2);
    expect(closed).toBe(true);
    // Released already: the handle's own release sends nothing and says the lease was not held.
    expect(await first.release()).toBe(false);
    expect(calls.filter((c) => c === 'release')).toHaveLength(2);
  });

  it('closes even when the store never answers the releases', async () => {
    let closed = false;
    const { backend, calls } = scripted({
      release: () => new Promise(() => {}),
      close: async () => {
        closed = true;
      },
    });
    const held = await lease(backend, 'stuck', { ttl: 60_000 });
    await backend.close();
    expect(calls).toContain('release');
    expect(held.held).toBe(false);
    expect(closed).toBe(true);
  });
});
