import { randomUUID } from 'node:crypto';
import { lease, type PostgresBackend, type PostgresMode, postgresBackend } from '@oncelock/postgres';
import { delay } from '@oncelock/testkit';
import { spawnWorker, type Worker } from '@oncelock/testkit/faults';
import { postgresUrl } from '@oncelock/testkit/servers';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dropSchema, entriesScanned, testSchema } from './helpers.js';

// What the contract suite cannot show from one process: permits taken at once over separate
// connections never exceed the limit, and in advisory mode a killed holder's permit is free at
// once while the others stay.
const schema = testSchema('permits');
const made: PostgresBackend[] = [];
const workers: Worker[] = [];
const make = (mode: PostgresMode) => {
  const b = postgresBackend({ connectionString: postgresUrl, schema, mode });
  made.push(b);
  return b;
};
const fixture = new URL('./fixtures/holder.mjs', import.meta.url);

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(made.splice(0).map((b) => b.close()));
});
afterAll(() => dropSchema(schema));

describe.each(['advisory', 'table'] as const)('permits in %s mode', (mode) => {
  it('8 acquirers on their own connections, all at once: exactly 3 of limit 3 are granted, each round', async () => {
    const backends = Array.from({ length: 8 }, () => make(mode));
    await Promise.all(backends.map((b) => b.migrate()));
    for (let round = 0; round < 10; round++) {
      const key = `burst:${randomUUID()}`;
      const owners = backends.map(() => randomUUID());
      const results = await Promise.all(
        backends.map((b, i) => b.acquire({ key, owner: owners[i]!, ttl: 10_000, limit: 3 })),
      );
      const granted = results.flatMap((r, i) => (r.granted ? [{ i, fence: r.fence! }] : []));
      expect(granted).toHaveLength(3);
      expect(new Set(granted.map((g) => g.fence)).size).toBe(3);
      const seen = await backends[0]!.inspect(key);
      expect(seen?.holders?.map((h) => h.owner).sort()).toEqual(granted.map((g) => owners[g.i]).sort());
      // Every refusal names the limit it was refused under.
      for (const r of results) if (!r.granted) expect(r.limit).toBe(3);
      await Promise.all(granted.map((g) => backends[g.i]!.release({ key, owner: owners[g.i]!, limit: 3 })));
      expect(await backends[0]!.inspect(key)).toBeNull();
    }
  });

  it('a plain lease is refused while a permit lives, and granted once every permit has ended unreleased', async () => {
    const b = make(mode);
    const key = `ended:${randomUUID()}`;
    expect((await b.acquire({ key, owner: 'p', ttl: 300, limit: 2 })).granted).toBe(true);
    expect(await b.acquire({ key, owner: 'plain', ttl: 5000 })).toMatchObject({ granted: false, limit: 2 });
    await delay(400);
    // The permit ended without a release: its header is cleared by the plain acquire that meets it.
    expect((await b.acquire({ key, owner: 'plain', ttl: 5000 })).granted).toBe(true);
    expect(await b.acquire({ key, owner: 'p', ttl: 5000, limit: 2 })).toMatchObject({
      granted: false,
      limit: 1,
    });
    expect(await b.release({ key, owner: 'plain' })).toBe(true);
  });

  it('a permit taken and given back many times leaves no dead index entries for the next scan to walk', async () => {
    const b = make(mode);
    const key = `churn:${randomUUID()}`;
    for (let n = 0; n < 1500; n++) {
      const owner = randomUUID();
      expect((await b.acquire({ key, owner, ttl: 10_000, limit: 2 })).granted).toBe(true);
      expect(await b.release({ key, owner, limit: 2 })).toBe(true);
    }
    // A bitmap scan counts every index entry of the key it does not know to be dead: each pair
    // leaves one, which only the permit functions' own scans can mark (no vacuum runs this fast).
    expect(await entriesScanned(schema, 'permits', key)).toBeLessThan(50);
  });

  it('8 workers taking turns through waits never hold more than 3 at once', async () => {
    const backends = Array.from({ length: 8 }, () => make(mode));
    const key = `turns:${randomUUID()}`;
    let holding = 0;
    let most = 0;
    let overLimit = 0;
    const work = async (b: PostgresBackend) => {
      for (let n = 0; n < 3; n++) {
        const permit = await lease(b, key, { ttl: 10_000, limit: 3, wait: 30_000 });
        most = Math.max(most, ++holding);
        const holders = (await b.inspect(key))?.holders ?? [];
        if (holders.length > 3) overLimit++;
        await delay(20);
        holding--;
        await permit.release();
      }
    };
    await Promise.all(backends.map(work));
    expect(overLimit).toBe(0);
    expect(most).toBe(3);
  });
});

describe('advisory mode, holders in processes of their own', () => {
  it('a SIGKILLed holder of a permit: its permit is free at once, the others stay', async () => {
    const key = `killed-permit:${randomUUID()}`;
    const spawn = async () => {
      const w = spawnWorker(fixture, [postgresUrl, schema, 'advisory', key, '60000', '3']);
      workers.push(w);
      return {
        worker: w,
        held: await w.next<{ type: string; token: string }>((m) => m.type === 'held', 20_000),
      };
    };
    const holders = [await spawn(), await spawn(), await spawn()];
    const b = make('advisory');
    expect((await b.acquire({ key, owner: randomUUID(), ttl: 5000, limit: 3 })).granted).toBe(false);
    await holders[1]!.worker.kill();
    const killedAt = performance.now();
    const owner = randomUUID();
    while (!(await b.acquire({ key, owner, ttl: 5000, limit: 3 })).granted) {
      expect(performance.now() - killedAt).toBeLessThan(1000);
      await delay(20);
    }
    const seen = (await b.inspect(key))?.holders?.map((h) => h.owner).sort();
    expect(seen).toEqual([holders[0]!.held.token, holders[2]!.held.token, owner].sort());
    expect(await b.release({ key, owner, limit: 3 })).toBe(true);
  });
});
