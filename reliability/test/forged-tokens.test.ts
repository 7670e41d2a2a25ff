import { InvalidArgumentError, LockNotAcquiredError, lease, tryLease } from '@oncelock/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deadline } from '../src/deadline.js';
import { METACHARACTERS } from './arbitraries.js';
import { catalogue } from './catalogue.js';

// Releasing, extending or taking over with a wrong or forged token, through every backend.
// Forgeries are near misses of the real token (case, a prefix, a suffix, padding, NUL) and
// strings that mean something to Lua patterns, SQL or JSON. None may change who holds the key.

const entries = catalogue('forged');
const bound = <T>(p: Promise<T>, what: string) => deadline(p, 10_000, what);

/** Ways to get a token wrong: near misses of the real one, by name, or strings of any kind. */
const nearMisses: Record<string, (token: string) => string> = {
  upper: (t) => t.toUpperCase(),
  'drop last': (t) => t.slice(0, -1),
  'drop first': (t) => t.slice(1),
  'space after': (t) => `${t} `,
  'space before': (t) => ` ${t}`,
  'nul after': (t) => `${t}\0`,
  'newline after': (t) => `${t}\n`,
  'one more digit': (t) => `${t}0`,
  'first digit changed': (t) => t.replace(/^./, (c) => (c === '0' ? '1' : '0')),
  quoted: (t) => `"${t}"`,
};
type Recipe = { nearMiss: string } | { literal: string };
const recipe: fc.Arbitrary<Recipe> = fc.oneof(
  fc.constantFrom(...Object.keys(nearMisses)).map((nearMiss) => ({ nearMiss })),
  fc
    .oneof(
      fc.constantFrom('.*', '%a+', '%', "' OR '1'='1", 'null', 'undefined', '[object Object]'),
      fc.array(fc.constantFrom(...METACHARACTERS), { minLength: 1, maxLength: 6 }).map((a) => a.join('')),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
    )
    .filter((s) => s.isWellFormed())
    .map((literal) => ({ literal })),
);
const forge = (r: Recipe, token: string) => ('literal' in r ? r.literal : nearMisses[r.nearMiss]!(token));

describe.each(entries)('forged tokens: $name', (entry) => {
  it('a wrong token can neither release, nor extend, nor take over a held key', async () => {
    const a = entry.create();
    const b = entry.peer(a);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(recipe, { minLength: 1, maxLength: 6 }), async (recipes) => {
        const key = `forged:${n++}`;
        const held = await bound(lease(a, key, { ttl: 10_000 }), 'lease');
        try {
          for (const owner of recipes.map((r) => forge(r, held.token))) {
            if (owner === held.token) continue; // a literal that happens to be right is no forgery
            // Postgres refuses an owner with NUL (its text cannot hold one) with a typed error.
            const nul = owner.includes('\0') && entry.name.startsWith('postgres');
            const release = bound(b.release({ key, owner }), 'forged release');
            const extend = bound(b.extend({ key, owner, ttl: 10_000 }), 'forged extend');
            if (nul) {
              await expect(release).rejects.toBeInstanceOf(InvalidArgumentError);
              await expect(extend).rejects.toBeInstanceOf(InvalidArgumentError);
            } else {
              expect(await release).toBe(false);
              expect(await extend).toBe(false);
            }
            // Through core, an owner with NUL is refused as bad input on every backend.
            await expect(bound(lease(b, key, { ttl: 10_000, owner }), 'forged lease')).rejects.toBeInstanceOf(
              owner.includes('\0') ? InvalidArgumentError : LockNotAcquiredError,
            );
          }
          // The real holder is untouched: still the holder, still able to extend.
          expect((await bound(b.inspect(key), 'inspect'))?.owner).toBe(held.token);
          await bound(held.extend(), 'extend by the holder');
          // The right token on the wrong key changes nothing either.
          expect(await bound(b.release({ key: `${key}x`, owner: held.token }), 'wrong key')).toBe(false);
        } finally {
          expect(await bound(held.release(), 'release')).toBe(true);
        }
        // Released by its holder: a stale copy of the token now releases nothing.
        const next = await bound(tryLease(b, key, { ttl: 10_000 }), 'next holder');
        expect(next).not.toBeNull();
        expect(await bound(b.release({ key, owner: held.token }), 'stale token')).toBe(false);
        expect(await bound(next!.release(), 'release of the next')).toBe(true);
      }),
      { numRuns: 10, endOnFailure: true },
    );
  }, 120_000);
});
