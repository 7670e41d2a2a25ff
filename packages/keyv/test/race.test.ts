// The read-back is what narrows the race: without it, simultaneous contenders all "win".
// Figures over many rounds are in the README, from bench/race.ts; these are functional checks.
import { newToken } from '@oncelock/core/backend';
import Keyv from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { type KeyvBackendOptions, keyvBackend, type LockBackend } from '../src/index.js';
import { redisStore } from './stores.js';

/** All contenders released in the same tick, as a Promise.all of jobs would be; returns grants per round. */
async function rounds(backends: readonly LockBackend[], count: number): Promise<number[]> {
  const grants: number[] = [];
  for (let r = 0; r < count; r++) {
    const key = `race:${newToken()}`;
    const results = await Promise.all(
      backends.map((b) => b.acquire({ key, owner: newToken(), ttl: 10_000 })),
    );
    grants.push(results.filter((x) => x.granted).length);
  }
  return grants;
}

const inMemory = (tuning: Partial<KeyvBackendOptions>) => {
  const map = new Map();
  return Array.from({ length: 8 }, () =>
    keyvBackend({ store: new Keyv({ store: map, throwOnErrors: true }), ...tuning }),
  );
};

describe('contention in memory (one process, one Map)', () => {
  it('writing without reading back hands the lock to several at once', async () => {
    const grants = await rounds(inMemory({ confirmations: 0 }), 10);
    expect(Math.max(...grants)).toBeGreaterThan(1);
  });

  it('with the default read-back, exactly one contender wins each round', async () => {
    const grants = await rounds(inMemory({}), 30);
    expect(grants).toEqual(grants.map(() => 1));
  });
});

describe('contention over Redis (8 connections)', () => {
  const store = redisStore();
  // A wider freshness bound than the default: this checks liveness, and must not trip on a loaded machine.
  const backends = Array.from({ length: 8 }, () =>
    keyvBackend({ store: store.keyv(), settle: 20, closeStore: true }),
  );
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await store.cleanup();
  });

  it('someone always wins, and a loser is told which contender holds the key', async () => {
    const key = `race:${newToken()}`;
    const owners = backends.map(() => newToken());
    const results = await Promise.all(
      backends.map((b, i) => b.acquire({ key, owner: owners[i]!, ttl: 10_000 })),
    );
    expect(results.filter((r) => r.granted).length).toBeGreaterThanOrEqual(1);
    for (const r of results) if (!r.granted && r.holder) expect(owners).toContain(r.holder.owner);
    const grants = await rounds(backends, 20);
    expect(Math.min(...grants)).toBeGreaterThanOrEqual(1);
  });
});
