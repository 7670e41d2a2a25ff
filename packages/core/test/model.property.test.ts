import { type LockBackend, memoryBackend } from '@oncelock/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// A reference model of what a lock store must do, checked against the memory backend under
// random interleavings of acquire, extend, release, inspect and the passing of (fake) time.
interface ModelEntry {
  owner: string;
  expiresAt: number;
  fence: number;
}

interface World {
  now: number;
  model: Map<string, ModelEntry>;
  lastFence: Map<string, number>;
  backend: LockBackend;
}

const live = (w: World, key: string) => {
  const e = w.model.get(key);
  if (e && e.expiresAt <= w.now) {
    w.model.delete(key);
    return undefined;
  }
  return e;
};

const keys = fc.constantFrom('a', 'b');
const owners = fc.constantFrom('o1', 'o2', 'o3');
const ttls = fc.integer({ min: 10, max: 100 });

const acquire = fc.record({ op: fc.constant('acquire' as const), key: keys, owner: owners, ttl: ttls });
const extend = fc.record({ op: fc.constant('extend' as const), key: keys, owner: owners, ttl: ttls });
const release = fc.record({ op: fc.constant('release' as const), key: keys, owner: owners });
const inspect = fc.record({ op: fc.constant('inspect' as const), key: keys });
const advance = fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) });
const step = fc.oneof(acquire, extend, release, inspect, advance);

type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

async function apply(w: World, s: Step): Promise<void> {
  switch (s.op) {
    case 'advance':
      w.now += s.ms;
      return;
    case 'acquire': {
      const e = live(w, s.key);
      const r = await w.backend.acquire(s);
      if (e && e.owner !== s.owner) {
        expect(r).toMatchObject({ granted: false, holder: { owner: e.owner, fence: e.fence } });
        return;
      }
      expect(r.granted).toBe(true);
      const fence = r.granted ? (r.fence ?? -1) : -1;
      if (e)
        expect(fence).toBe(e.fence); // re-entrant: same fence
      else expect(fence).toBeGreaterThan(w.lastFence.get(s.key) ?? 0);
      w.lastFence.set(s.key, fence);
      w.model.set(s.key, { owner: s.owner, expiresAt: w.now + s.ttl, fence });
      return;
    }
    case 'extend': {
      const e = live(w, s.key);
      const mine = e?.owner === s.owner;
      expect(await w.backend.extend(s)).toBe(mine);
      if (e && mine) e.expiresAt = w.now + s.ttl;
      return;
    }
    case 'release': {
      const e = live(w, s.key);
      const mine = e?.owner === s.owner;
      expect(await w.backend.release(s)).toBe(mine);
      if (mine) w.model.delete(s.key);
      return;
    }
    case 'inspect': {
      const e = live(w, s.key);
      const h = await w.backend.inspect(s.key);
      if (!e) expect(h).toBeNull();
      else expect(h).toMatchObject({ owner: e.owner, fence: e.fence, ttlRemaining: e.expiresAt - w.now });
    }
  }
}

describe('memory backend against the reference model', () => {
  it('agrees on every step of random histories, with fences only rising', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        const w = { now: 0, model: new Map(), lastFence: new Map() } as unknown as World;
        w.backend = memoryBackend({ clock: () => w.now });
        for (const s of steps) await apply(w, s);
        await w.backend.close();
      }),
      { numRuns: 300 },
    );
  });
});
