import { newToken } from '@oncelock/core/backend';
import {
  type AcquireResult,
  BackendUnavailableError,
  InvalidArgumentError,
  LockLostError,
  lease,
  type PostgresBackend,
  postgresBackend,
} from '@oncelock/postgres';
import { aborted, delay, eventually } from '@oncelock/testkit';
import { terminatePgBackends } from '@oncelock/testkit/faults';
import { postgresUrl } from '@oncelock/testkit/servers';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { advisoryLocksOf, dropSchema, holderPid, testSchema } from './helpers.js';

const schema = testSchema('advisory');
const made: PostgresBackend[] = [];
const make = (extra: { schema?: string; migrate?: boolean; mode?: 'advisory' | 'table' } = {}) => {
  const b = postgresBackend({ connectionString: postgresUrl, schema, ...extra });
  made.push(b);
  return b;
};
const fenceOf = (r: AcquireResult) => (r.granted ? r.fence : undefined);

afterEach(async () => {
  await Promise.all(made.splice(0).map((b) => b.close()));
});
afterAll(() => dropSchema(schema));

describe('advisory mode', () => {
  it('tells two owners in one process apart on one session, and counts its advisory locks exactly', async () => {
    const b = make();
    const key = `owners:${newToken()}`;
    const first = await b.acquire({ key, owner: 'A', ttl: 5000 });
    expect(first.granted).toBe(true);
    const pid = await holderPid(schema, key);
    expect(pid).toBeTypeOf('number');
    // Same session, another owner: PostgreSQL alone would say yes (locks are re-entrant per session).
    const other = await b.acquire({ key, owner: 'B', ttl: 5000 });
    expect(other).toMatchObject({ granted: false, holder: { owner: 'A', fence: fenceOf(first) } });
    expect(await b.acquire({ key, owner: 'A', ttl: 5000 })).toEqual(first); // re-entrant: same fence
    expect(await advisoryLocksOf(pid!)).toBe(1); // the re-entrant grant stacked no second count
    expect(await b.release({ key, owner: 'B' })).toBe(false);
    expect(await b.extend({ key, owner: 'B', ttl: 5000 })).toBe(false);
    expect(await b.release({ key, owner: 'A' })).toBe(true);
    expect(await advisoryLocksOf(pid!)).toBe(0); // given back exactly once
    const second = await b.acquire({ key, owner: 'B', ttl: 5000 });
    expect(fenceOf(second)).toBeGreaterThan(fenceOf(first)!);
  });

  it('gives every count back: on release, at expiry, and once another process took the key', async () => {
    const a = make();
    const b = make();
    const k = (n: string) => `counts:${n}:${newToken()}`;
    const [released, expiring, stolen] = [k('released'), k('expiring'), k('stolen')];
    await a.acquire({ key: released, owner: 'o', ttl: 5000 });
    await a.acquire({ key: expiring, owner: 'o', ttl: 1000 });
    await a.acquire({ key: stolen, owner: 'o', ttl: 5000 });
    const pid = (await holderPid(schema, released))!;
    expect(await advisoryLocksOf(pid)).toBe(3);
    expect(await a.release({ key: released, owner: 'o' })).toBe(true);
    // Released from another session with the owner token: the row goes, and the key is free at once.
    expect(await b.release({ key: stolen, owner: 'o' })).toBe(true);
    expect((await b.acquire({ key: stolen, owner: 'thief', ttl: 5000 })).granted).toBe(true);
    // The first session learns it at its next extension, and gives that count back.
    expect(await a.extend({ key: stolen, owner: 'o', ttl: 5000 })).toBe(false);
    // Past the expiring grant's TTL, the backend's sweep gives that count back too.
    expect(await eventually(async () => (await advisoryLocksOf(pid)) === 0)).toBe(true);
    expect(await a.inspect(expiring)).toBeNull();
  });

  it('hands a claim to another session that presents its owner token, keeping the fence', async () => {
    const producer = make();
    const worker = make();
    const key = `adopt:${newToken()}`;
    const jobId = `job-${newToken()}`;
    const claim = await producer.acquire({ key, owner: jobId, ttl: 5000 });
    const adopted = await worker.acquire({ key, owner: jobId, ttl: 5000 });
    expect(adopted).toEqual(claim);
    const workerPid = await holderPid(schema, key);
    // The claim now lives with the worker's session: the producer going away does not end it.
    await producer.close();
    await delay(100);
    expect(await worker.inspect(key)).toMatchObject({ owner: jobId, fence: fenceOf(claim) });
    expect(await holderPid(schema, key)).toBe(workerPid);
    expect((await make().acquire({ key, owner: 'other', ttl: 5000 })).granted).toBe(false);
  });

  it('a terminated lock session frees its keys at once, reports every lease on it lost, and reconnects', async () => {
    const a = make();
    const b = make();
    const keys = [`term:1:${newToken()}`, `term:2:${newToken()}`];
    const leases = await Promise.all(keys.map((key) => lease(a, key, { ttl: 600 })));
    const pid = (await holderPid(schema, keys[0]!))!;
    expect(await terminatePgBackends({ connectionString: postgresUrl, pid })).toEqual([pid]);
    const terminatedAt = performance.now();
    // The rows name a session that no longer exists: free for anyone, before any TTL.
    expect((await b.acquire({ key: keys[0]!, owner: 'next', ttl: 5000 })).granted).toBe(true);
    expect(performance.now() - terminatedAt).toBeLessThan(600);
    for (const l of leases) expect(await aborted(l.signal)).toBeInstanceOf(LockLostError);
    expect(performance.now() - terminatedAt).toBeLessThan(1000);
    const again = await lease(a, keys[1]!, { ttl: 5000 });
    const newPid = await holderPid(schema, keys[1]!);
    expect(newPid).toBeTypeOf('number');
    expect(newPid).not.toBe(pid);
    await again.release();
  });

  it("excludes table-mode processes on the same schema, which see an ended session's keys free at their TTL", async () => {
    const advisory = make();
    const table = make({ mode: 'table' });
    const [early, late] = [`mixed:early:${newToken()}`, `mixed:late:${newToken()}`];
    const held = await advisory.acquire({ key: early, owner: 'a', ttl: 60_000 });
    // Long enough that the steps before the first check below fit in it on a loaded machine.
    await advisory.acquire({ key: late, owner: 'a', ttl: 1500 });
    const lateExpiresAt = performance.now() + 1500;
    expect(await table.acquire({ key: early, owner: 't', ttl: 5000 })).toMatchObject({
      granted: false,
      holder: { owner: 'a' },
    });
    await terminatePgBackends({ connectionString: postgresUrl, pid: (await holderPid(schema, early))! });
    // Advisory mode sees the session gone at once; table mode (which never reads pg_locks) waits for the TTL.
    const next = await make().acquire({ key: early, owner: 'n', ttl: 5000 });
    expect(fenceOf(next)).toBeGreaterThan(fenceOf(held)!);
    expect((await table.acquire({ key: late, owner: 't', ttl: 5000 })).granted).toBe(false);
    await delay(lateExpiresAt - performance.now() + 100);
    expect((await table.acquire({ key: late, owner: 't', ttl: 5000 })).granted).toBe(true);
    expect(await table.acquire({ key: early, owner: 't', ttl: 5000 })).toMatchObject({
      granted: false,
      holder: { owner: 'n' },
    });
  });

  it('lists the live holders under a prefix, and not those of a dead session', async () => {
    const a = make();
    const prefix = `list:${newToken()}:`;
    await a.acquire({ key: `${prefix}x`, owner: 'ox', ttl: 5000 });
    await a.acquire({ key: `${prefix}y`, owner: 'oy', ttl: 5000 });
    await a.acquire({ key: `other:${newToken()}`, owner: 'oz', ttl: 5000 });
    const listed = await a.list(prefix);
    expect(listed.map((h) => [h.key, h.owner])).toEqual([
      [`${prefix}x`, 'ox'],
      [`${prefix}y`, 'oy'],
    ]);
    expect(listed.every((h) => h.ttlRemaining! > 0 && h.ttlRemaining! <= 5000 && h.fence! > 0)).toBe(true);
    const pid = (await holderPid(schema, `${prefix}x`))!;
    await terminatePgBackends({ connectionString: postgresUrl, pid });
    expect(await make().list(prefix)).toEqual([]);
  });

  it("with { pool }, keeps its lock session out of the user's pool for good, and leaves the pool open", async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 3 });
    try {
      const b = postgresBackend({ pool, schema });
      const key = `pool:${newToken()}`;
      expect((await b.acquire({ key, owner: 'o', ttl: 5000 })).granted).toBe(true);
      expect(pool.totalCount - pool.idleCount).toBe(1); // the lock session, checked out
      const pid = (await holderPid(schema, key))!;
      await b.close();
      // close() destroyed that connection (its session ends) instead of handing it back.
      expect(await eventually(async () => (await advisoryLocksOf(pid)) === 0)).toBe(true);
      expect(pool.totalCount - pool.idleCount).toBe(0);
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('refuses a key or owner PostgreSQL cannot store, with a typed error', async () => {
    const a = make();
    await expect(a.acquire({ key: 'nul\0key', owner: 'o', ttl: 1000 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(a.release({ key: 'k', owner: 'nul\0' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(a.inspect('nul\0')).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('with migrate: false, leaves the schema alone until migrate() is called', async () => {
    const own = testSchema('advisory_migrate');
    try {
      const b = make({ schema: own, migrate: false });
      await expect(b.acquire({ key: 'k', owner: 'o', ttl: 1000 })).rejects.toBeInstanceOf(
        BackendUnavailableError,
      );
      await b.migrate();
      await b.migrate(); // idempotent
      expect((await b.acquire({ key: 'k', owner: 'o', ttl: 1000 })).granted).toBe(true);
    } finally {
      await Promise.all(made.splice(0).map((b) => b.close()));
      await dropSchema(own);
    }
  });
});
