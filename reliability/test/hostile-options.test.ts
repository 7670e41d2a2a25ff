import KeyvRedis from '@keyv/redis';
import {
  CapabilityUnsupportedError,
  type Exclusion,
  InvalidArgumentError,
  type LockBackend,
  LockNotAcquiredError,
  lease,
  OncelockError,
  tryLease,
  WaitAbortedError,
  WaitTimeoutError,
} from '@oncelock/core';
import { MAX_OWNER_LENGTH } from '@oncelock/core/backend';
import { keyvBackend } from '@oncelock/keyv';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend } from '@oncelock/redis';
import { postgresUrl, redisUrl } from '@oncelock/testkit/servers';
import fc from 'fast-check';
import { Keyv } from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { deadline, delay } from '../src/deadline.js';
import { pgExec } from '../src/labs/index.js';
import { anyTtl, anyWait, validTtl, validWait } from './arbitraries.js';
import { catalogue } from './catalogue.js';

// Absurd TTLs and waits and options of the wrong type, through lease() and tryLease() on every
// backend. A model written from the documented rules predicts each outcome; the backend must
// match it: a typed error before any round trip, or a lease that works and is released.

const entries = catalogue('options');
const bound = <T>(p: Promise<T>, what: string) => deadline(p, 15_000, what);

const aborted = new AbortController();
aborted.abort(new Error('cancelled before the call'));

const anyOwner = fc.oneof(
  fc.constant(undefined),
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.constantFrom(
    '',
    'x'.repeat(MAX_OWNER_LENGTH),
    'x'.repeat(MAX_OWNER_LENGTH + 1),
    '\ud800',
    "o'wner\0",
    '%s',
  ),
  fc.anything(),
);
const exclusions: Exclusion[] = ['best-effort', 'quorum', 'strict'];
const anyRequire = fc.oneof(
  fc.constant(undefined),
  fc.record(
    {
      exclusion: fc.oneof(fc.constantFrom(...exclusions), fc.anything()),
      fencing: fc.oneof(fc.boolean(), fc.anything()),
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
);
const anyOptions: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        ttl: anyTtl,
        wait: anyWait,
        autoExtend: fc.oneof(fc.boolean(), fc.anything()),
        signal: fc.oneof(fc.constant(undefined), fc.constant('fresh'), fc.constant('aborted'), fc.anything()),
        owner: anyOwner,
        require: anyRequire,
      },
      { requiredKeys: ['ttl'] },
    ),
  },
  { weight: 1, arbitrary: fc.anything() },
);

type Outcome = 'invalid' | 'unsupported' | 'aborted' | 'granted' | 'refused';
const strength: Record<Exclusion, number> = { 'best-effort': 0, quorum: 1, strict: 2 };

const leaseOptionNames = ['ttl', 'wait', 'autoExtend', 'signal', 'require', 'owner'];
const unknownName = (o: Record<string, unknown>, names: readonly string[]) => {
  for (const name in o) if (!names.includes(name)) return true;
  return false;
};

/** What the documented rules say `lease(backend, key, options)` does with these options. */
function expected(backend: LockBackend, options: unknown): Outcome {
  if (options === undefined) return 'invalid'; // no ttl
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return 'invalid';
  const o = options as Record<string, unknown>;
  // Every value is checked before what the backend can do; a name no option has is refused too.
  if (unknownName(o, leaseOptionNames)) return 'invalid';
  if (!validTtl(o.ttl) || !validWait(o.wait)) return 'invalid';
  if (o.autoExtend !== undefined && typeof o.autoExtend !== 'boolean') return 'invalid';
  if (o.signal !== undefined && o.signal !== 'fresh' && o.signal !== 'aborted') return 'invalid';
  const owner = o.owner;
  if (owner !== undefined) {
    if (typeof owner !== 'string' || owner.length === 0 || owner.length > MAX_OWNER_LENGTH) return 'invalid';
    if (!owner.isWellFormed() || owner.includes('\0')) return 'invalid';
  }
  const req = o.require;
  if (req !== undefined && (req === null || typeof req !== 'object' || Array.isArray(req))) return 'invalid';
  const r = (req ?? {}) as Record<string, unknown>;
  if (unknownName(r, ['exclusion', 'fencing'])) return 'invalid';
  if (r.exclusion !== undefined && !exclusions.includes(r.exclusion as Exclusion)) return 'invalid';
  if (r.fencing !== undefined && typeof r.fencing !== 'boolean') return 'invalid';
  if (strength[backend.guarantees.exclusion] < strength[(r.exclusion as Exclusion) ?? 'best-effort'])
    return 'unsupported';
  if (r.fencing === true && !backend.guarantees.fencing) return 'unsupported';
  if (o.signal === 'aborted') return 'aborted';
  // Keyv reads its write back before trusting it (settle 5 ms x 2 by default): it refuses a TTL
  // that would run out during that, with the same typed error.
  if (backend.name === 'keyv' && (o.ttl as number) <= 10) return 'invalid';
  return 'granted';
}

/** The options as passed: the placeholders become real signals. */
function materialise(options: unknown): unknown {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return options;
  const o = options as Record<string, unknown>;
  if (o.signal === 'fresh') return { ...o, signal: new AbortController().signal };
  if (o.signal === 'aborted') return { ...o, signal: aborted.signal };
  return o;
}

async function outcomeOf(call: () => Promise<unknown>): Promise<{ outcome: Outcome; value?: unknown }> {
  try {
    const value = await bound(call(), 'the call');
    return value === null ? { outcome: 'refused' } : { outcome: 'granted', value };
  } catch (error) {
    if (error instanceof LockNotAcquiredError || error instanceof WaitTimeoutError)
      return { outcome: 'refused' };
    if (error instanceof InvalidArgumentError) return { outcome: 'invalid' };
    if (error instanceof CapabilityUnsupportedError) return { outcome: 'unsupported' };
    if (error instanceof WaitAbortedError) return { outcome: 'aborted' };
    throw error;
  }
}

describe.each(entries)('hostile options: $name', (entry) => {
  it('lease and tryLease do what the documented rules predict, for any options', async () => {
    const backend = entry.create();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(anyOptions, async (options) => {
        const key = `options:${n++}`; // a free key each time, so that a valid wait never waits
        const want = expected(backend, options);
        for (const take of [lease, tryLease]) {
          const got = await outcomeOf(() => take(backend, key, materialise(options) as never));
          const ttl = (options as { ttl?: unknown } | null)?.ttl as number;
          // A grant that arrives too late to trust counts as refused: possible with a TTL of a few ms.
          const late = want === 'granted' && got.outcome === 'refused' && ttl < 1000;
          if (!late) expect(got.outcome, fc.stringify(options)).toBe(want);
          if (got.outcome !== 'granted') continue;
          const held = got.value as Awaited<ReturnType<typeof lease>>;
          expect(held.ttl).toBe(ttl);
          // A short TTL may run out before the release arrives; a long one may not.
          const released = await bound(held.release(), 'release');
          if (ttl >= 5000) expect(released).toBe(true);
        }
        let left = await bound(backend.inspect(key), 'inspect');
        // Keyv does not delete an entry whose TTL is nearly out, since a late delete could remove
        // a contender's entry; it lets it lapse instead. A short lease may leave one: gone at its TTL.
        const ttl = (options as { ttl?: unknown } | null)?.ttl;
        if (left && backend.name === 'keyv' && validTtl(ttl) && (ttl as number) < 1000) {
          await delay((ttl as number) + 5);
          left = await bound(backend.inspect(key), 'inspect');
        }
        expect(left).toBeNull();
      }),
      { numRuns: 60, endOnFailure: true },
    );
  }, 120_000);

  it('extend() refuses a bad TTL with a typed error and the lease stays held', async () => {
    const backend = entry.create();
    const peer = entry.peer(backend);
    const held = await bound(lease(backend, 'options:extend', { ttl: 10_000 }), 'lease');
    try {
      await fc.assert(
        // Valid TTLs short enough to run out during the check would (rightly) end the lease.
        fc.asyncProperty(
          anyTtl.filter((t) => !validTtl(t) || t >= 5000),
          async (ttl) => {
            const got = await outcomeOf(() => held.extend(ttl as number));
            // No TTL means the lease's own.
            expect(got.outcome, fc.stringify(ttl)).toBe(
              ttl === undefined || validTtl(ttl) ? 'granted' : 'invalid',
            );
            expect(held.held).toBe(true);
            expect(await bound(tryLease(peer, 'options:extend', { ttl: 1000 }), 'contender')).toBeNull();
          },
        ),
        { numRuns: 40, endOnFailure: true },
      );
    } finally {
      await held.release();
    }
  }, 120_000);

  it('a lease with the longest TTL (about 24.8 days) and the longest wait is granted and released', async () => {
    const backend = entry.create();
    const held = await bound(
      lease(backend, 'options:max', { ttl: 2_147_483_647, wait: 2_147_483_647 }),
      'lease',
    );
    expect((await bound(backend.inspect('options:max'), 'inspect'))?.owner).toBe(held.token);
    expect(await bound(held.release(), 'release')).toBe(true);
  });
});

describe('hostile factory options', () => {
  // Only options that stay on this machine and in this test's namespace are fuzzed: a fuzzed host
  // or URL could send traffic elsewhere, a fuzzed valid schema name would leave tables behind.
  // Each call throws InvalidArgumentError at once, or gives a backend that works or fails with a
  // typed error, and closes.
  const schema = `rel_factory_${process.pid}`;
  afterAll(() => pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  const field = fc.oneof(fc.anything(), fc.integer(), fc.string({ maxLength: 300 }), fc.constant(undefined));
  const notIdentifier = fc.oneof(
    fc.anything().filter((v) => typeof v !== 'string'),
    fc.string().filter((v) => /[^a-z0-9_]/.test(v) || v === ''),
  );
  const cases: Array<
    [string, fc.Arbitrary<Record<string, unknown>>, (o: Record<string, unknown>) => LockBackend]
  > = [
    [
      'redisBackend',
      fc.record({ prefix: field, timeout: field, fenceRetention: field }, { requiredKeys: [] }),
      (o) => redisBackend({ url: redisUrl, ...o } as never),
    ],
    [
      'postgresBackend',
      fc.record(
        { schema: fc.oneof(fc.constant(schema), notIdentifier), mode: field, timeout: field, migrate: field },
        { requiredKeys: [] },
      ),
      (o) => postgresBackend({ connectionString: postgresUrl, schema, ...o } as never),
    ],
    [
      'keyvBackend',
      fc.record({ prefix: field, settle: field, confirmations: field, timeout: field }, { requiredKeys: [] }),
      (o) => {
        const store = new Keyv({
          store: new KeyvRedis(redisUrl, { throwOnErrors: true }),
          throwOnErrors: true,
        });
        try {
          return keyvBackend({ store, ...o, closeStore: true } as never);
        } catch (error) {
          void store.disconnect().catch(() => {});
          throw error;
        }
      },
    ],
  ];

  it.each(cases)(
    '%s: a typed error or a working backend',
    async (_, options, make) => {
      await fc.assert(
        fc.asyncProperty(options, async (o) => {
          let backend: LockBackend;
          try {
            backend = make(o);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidArgumentError);
            return;
          }
          try {
            const held = await bound(tryLease(backend, 'factory:probe', { ttl: 5000 }), 'tryLease');
            await held?.release();
          } catch (error) {
            expect(error).toBeInstanceOf(OncelockError);
          } finally {
            await bound(backend.close(), 'close');
          }
        }),
        { numRuns: 30, endOnFailure: true },
      );
    },
    120_000,
  );
});
