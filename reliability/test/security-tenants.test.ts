import { randomBytes } from 'node:crypto';
import { type LockBackend, lease, tryLease } from '@oncelock/core';
import {
  postgresUrl,
  type RedisCluster,
  type RedisServer,
  redisUrl,
  startRedisCluster,
  startRedisServer,
} from '@oncelock/testkit/servers';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadline } from '../src/deadline.js';
import { pgExec } from '../src/labs/index.js';
import { type BackendSpec, createBackend } from '../src/targets.js';
import { fitsPostgres, hostileKey, isValidKey, METACHARACTERS } from './arbitraries.js';

// Claim: one tenant's namespace cannot reach another's keys. Two backends with different
// namespaces (a prefix on Redis and Keyv, a schema on Postgres) share one store; whatever the
// keys, tenant B cannot see, block, extend or release what tenant A holds. The hardest case is
// built on purpose: B's prefix extends A's (`t:` and `t:b`) and A's key starts with the rest of
// it (`b…`), so that naive concatenation gives both the same store key.

const bound = <T>(p: Promise<T>, what: string) => deadline(p, 10_000, what);
const run = randomBytes(3).toString('hex');

/** A pair of namespaces and a pair of keys, half of them built to collide under concatenation. */
const tenants = (namespace: fc.Arbitrary<string>, keys = hostileKey) =>
  fc.oneof(
    fc.tuple(namespace, namespace, keys, keys),
    fc
      .tuple(
        namespace,
        namespace.filter((s) => s.length > 0),
        hostileKey,
      )
      // prefix B = A + extra, key A = extra + key B: the same string once concatenated
      .map(([a, extra, kb]) => [a, `${a}${extra}`, `${extra}${kb}`, kb] as [string, string, string, string])
      .filter(([, , ka]) => isValidKey(ka)),
  );

/** Checks isolation for one case, each tenant with its own backend; closes them. */
async function isolated(
  make: (namespace: string) => LockBackend,
  [na, nb, ka, kb]: [string, string, string, string],
) {
  if (na === nb) return;
  const A = make(na);
  const B = make(nb);
  try {
    const a = await bound(lease(A, ka, { ttl: 10_000 }), 'lease by A');
    try {
      const b = await bound(tryLease(B, kb, { ttl: 10_000 }), 'lease by B');
      expect(b, 'B was refused: it saw A’s lock').not.toBeNull();
      expect((await bound(B.inspect(kb), 'inspect by B'))?.owner).toBe(b!.token);
      expect(await bound(B.release({ key: kb, owner: a.token }), 'B releases with A’s token')).toBe(false);
      expect(await bound(B.extend({ key: kb, owner: a.token, ttl: 1000 }), 'B extends with A’s token')).toBe(
        false,
      );
      for (const h of (await B.list?.('')) ?? []) expect(h.owner).not.toBe(a.token);
      expect((await bound(A.inspect(ka), 'inspect by A'))?.owner).toBe(a.token);
      expect(await bound(b!.release(), 'release by B')).toBe(true);
    } finally {
      expect(await bound(a.release(), 'release by A')).toBe(true);
    }
  } finally {
    await Promise.all([A.close(), B.close()]);
  }
}

// Prefixes as the Redis backends accept them (no braces), made of hostile pieces.
const prefix = fc
  .oneof(
    fc.array(fc.constantFrom(...METACHARACTERS), { maxLength: 4 }).map((a) => a.join('')),
    fc.string({ maxLength: 12 }),
  )
  .filter((p) => !/[{}]/.test(p) && p.length <= 200)
  .map((p) => `rel:${run}:${p}`);

describe('tenant isolation', () => {
  let cluster: RedisCluster;
  let nodes: RedisServer[];
  const schemas = new Set<string>();
  beforeAll(async () => {
    [cluster, nodes] = await Promise.all([
      startRedisCluster({ primaries: 3 }),
      Promise.all([startRedisServer(), startRedisServer(), startRedisServer()]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([cluster?.stop(), ...(nodes ?? []).map((n) => n.stop())]);
    if (schemas.size > 0)
      await pgExec([...schemas].map((s) => `DROP SCHEMA IF EXISTS "${s}" CASCADE;`).join(''));
  });

  const byPrefix: Array<[string, (prefix: string) => BackendSpec]> = [
    ['redis', (p) => ({ kind: 'redis', url: redisUrl, prefix: p })],
    ['redis-cluster', (p) => ({ kind: 'redis-cluster', nodes: [...cluster.nodes], prefix: p })],
    ['redlock', (p) => ({ kind: 'redlock', urls: nodes.map((n) => n.url), prefix: p })],
  ];
  it.each(byPrefix)(
    '%s: a prefix cannot reach another prefix’s keys',
    async (_, spec) => {
      await fc.assert(
        fc.asyncProperty(tenants(prefix), (c) => isolated((p) => createBackend(spec(p)), c)),
        { numRuns: 15, endOnFailure: true },
      );
    },
    120_000,
  );

  it.each(['advisory', 'table'] as const)(
    'postgres %s mode: a schema cannot reach another schema’s keys',
    async (mode) => {
      // Schemas must be identifiers; the pair shares a prefix on purpose, like nested prefixes.
      const schema = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/).map((s) => `rel_${run}_${s}`);
      await fc.assert(
        fc.asyncProperty(tenants(schema, hostileKey.filter(fitsPostgres)), (c) =>
          isolated((s) => {
            schemas.add(s);
            return createBackend({ kind: 'postgres', mode, connectionString: postgresUrl, schema: s });
          }, c),
        ),
        { numRuns: 8, endOnFailure: true },
      );
    },
    120_000,
  );

  it('keyv: prefixes of which neither extends the other are isolated', async () => {
    const cases = tenants(prefix).filter(([a, b]) => !a.startsWith(b) && !b.startsWith(a));
    await fc.assert(
      fc.asyncProperty(cases, (c) =>
        isolated((p) => createBackend({ kind: 'keyv', redisUrl: redisUrl, prefix: p }), c),
      ),
      { numRuns: 15, endOnFailure: true },
    );
  }, 120_000);

  // Known bug, reported to the Keyv backend's owner: its store key is prefix + key, so tenant
  // `t:b` holding `k` and tenant `t:` holding `bk` are the same entry. This pins the failure.
  it('keyv: a prefix that extends another cannot reach its keys', async () => {
    await isolated(
      (p) => createBackend({ kind: 'keyv', redisUrl: redisUrl, prefix: p }),
      [`rel:${run}:t:`, `rel:${run}:t:b`, 'bk', 'k'],
    );
  });
});
