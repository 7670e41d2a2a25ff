import { InvalidArgumentError, lease, once, runOnceOrCancel, tryLease, withLease } from '@oncelock/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deadline } from '../src/deadline.js';
import { fitsPostgres, hostileKey, invalidKey, neighbours } from './arbitraries.js';
import { catalogue } from './catalogue.js';

// Keys with Lua and SQL metacharacters, Cluster braces, NUL, line breaks, very long and
// non-ASCII keys, through the public API of every backend. A key is a name, nothing more: each
// must lock exactly itself (held, seen, refused to a second contender, freed by its release),
// never a neighbour that an encoding, a prefix or a truncation could confuse it with.

const entries = catalogue('keys');
const bound = <T>(p: Promise<T>, what: string) => deadline(p, 10_000, what);

describe.each(entries)('hostile keys: $name', (entry) => {
  const keys = entry.name.startsWith('postgres') ? hostileKey.filter(fitsPostgres) : hostileKey;

  it('each key locks itself and nothing else, and is free after release', async () => {
    const a = entry.create();
    const b = entry.peer(a);
    await fc.assert(
      fc.asyncProperty(keys, async (key) => {
        const held = await bound(lease(a, key, { ttl: 10_000 }), 'lease');
        try {
          expect(held.key).toBe(key);
          expect((await bound(b.inspect(key), 'inspect'))?.owner).toBe(held.token);
          expect(await bound(tryLease(b, key, { ttl: 10_000 }), 'contender')).toBeNull();
          for (const other of neighbours(key)) {
            const near = await bound(
              tryLease(b, other, { ttl: 10_000 }),
              `neighbour ${JSON.stringify(other)}`,
            );
            expect(near, `neighbour ${JSON.stringify(other)} was held`).not.toBeNull();
            expect(await bound(near!.release(), 'neighbour release')).toBe(true);
          }
        } finally {
          expect(await bound(held.release(), 'release')).toBe(true);
        }
        expect(await bound(b.inspect(key), 'inspect after release')).toBeNull();
        const next = await bound(tryLease(b, key, { ttl: 10_000 }), 'take after release');
        expect(next).not.toBeNull();
        expect(await bound(next!.release(), 'release of the second')).toBe(true);
      }),
      // No shrinking: each step costs round trips; the counterexample is reported as found.
      { numRuns: 15, endOnFailure: true },
    );
  }, 120_000);

  it('refuses every invalid key with InvalidArgumentError, before any round trip', async () => {
    const backend = entry.create();
    await fc.assert(
      fc.asyncProperty(invalidKey, async (key) => {
        const k = key as string;
        await expect(bound(lease(backend, k, { ttl: 1000 }), 'lease')).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
        await expect(bound(tryLease(backend, k, { ttl: 1000 }), 'tryLease')).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
        await expect(
          bound(
            withLease(backend, k, () => 1, { ttl: 1000 }),
            'withLease',
          ),
        ).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(() => once(backend, { key: k })).toThrow(InvalidArgumentError);
        const run = runOnceOrCancel(async () => 1, { backend, key: () => k, ttl: 1000 });
        await expect(bound(run(), 'runOnceOrCancel')).rejects.toBeInstanceOf(InvalidArgumentError);
      }),
      { numRuns: 40, endOnFailure: true },
    );
  });
});

describe('long non-ASCII keys', () => {
  // 1,000 distinct BMP characters of 3 bytes each: 3,000 bytes, more than a PostgreSQL btree
  // entry holds. Core limits keys by UTF-8 bytes, so this is refused before any round trip.
  const tooLong = Array.from({ length: 1000 }, (_, i) =>
    String.fromCharCode(0x800 + ((i * 7919) % 0xd000)),
  ).join('');
  // 341 such characters: 1,023 bytes, just inside the limit, and lockable on every backend.
  const longest = tooLong.slice(0, 341);

  it.each(entries)('$name: a 3,000-byte key is refused and a 1,023-byte one is locked', async (entry) => {
    const backend = entry.create();
    await expect(bound(lease(backend, tooLong, { ttl: 10_000 }), 'lease')).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const held = await bound(lease(backend, longest, { ttl: 10_000 }), 'lease');
    expect(await bound(held.release(), 'release')).toBe(true);
  });
});
