import { type PostgresBackend, type PostgresMode, postgresBackend } from '@oncelock/postgres';
import { type PostgresCluster, postgresUrl, startPostgresCluster } from '@oncelock/testkit/servers';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dropSchema, sql, testSchema } from './helpers.js';

// Fences come from below a durable ceiling (schema version 4): advisory mode commits its grants
// without waiting for the WAL flush, and a crash must still never hand a fence out twice.
const schema = testSchema('fences');
const made: PostgresBackend[] = [];
const make = (mode: PostgresMode, connectionString = postgresUrl, s = schema) => {
  const b = postgresBackend({ connectionString, schema: s, mode });
  made.push(b);
  return b;
};
afterEach(async () => {
  await Promise.all(made.splice(0).map((b) => b.close().catch(() => {})));
});
afterAll(() => dropSchema(schema));

/** A plain lease and a permit on `key`, taken and given back `n` times each: their fences in order. */
async function fencesOf(b: PostgresBackend, key: string, n: number): Promise<number[]> {
  const fences: number[] = [];
  for (let i = 0; i < n; i++) {
    for (const limit of [undefined, 2]) {
      const owner = `o${i}-${limit ?? 1}`;
      const r = await b.acquire({ key, owner, ttl: 60_000, limit });
      if (!r.granted || r.fence === undefined) throw new Error(`no fence: ${key} ${owner}`);
      fences.push(r.fence);
      await b.release({ key, owner, limit });
    }
  }
  return fences;
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > (xs[i - 1] as number));

describe('fences below a durable ceiling', () => {
  for (const mode of ['advisory', 'table'] as const) {
    it(`${mode} mode: a fence at the ceiling raises it, and fences keep increasing`, async () => {
      const b = make(mode);
      await b.migrate();
      // Leave room for two fences only: the ceiling must be raised within the next few grants.
      await sql(
        `UPDATE "${schema}".fence_ceiling SET ceiling = (SELECT last_value FROM "${schema}".fence) + 2`,
      );
      const [before] = await sql<{ ceiling: string }>(`SELECT ceiling FROM "${schema}".fence_ceiling`);
      const fences = await fencesOf(b, `raise-${mode}`, 6);
      expect(increasing(fences)).toBe(true);
      const [after] = await sql<{ ceiling: string }>(`SELECT ceiling FROM "${schema}".fence_ceiling`);
      expect(Number(after?.ceiling)).toBeGreaterThan(Number(before?.ceiling));
      expect(Number(after?.ceiling)).toBeGreaterThan(Math.max(...fences));
    });
  }

  it('hands out nothing while the crash marker is gone, then moves the sequence past the ceiling', async () => {
    const b = make('advisory');
    await b.migrate();
    const [{ ceiling } = { ceiling: '0' }] = await sql<{ ceiling: string }>(
      `SELECT ceiling FROM "${schema}".fence_ceiling`,
    );
    // What a crash leaves: the marker gone, and the sequence behind fences it handed out.
    await sql(`DELETE FROM "${schema}".fence_live; SELECT setval('"${schema}".fence', 1)`);
    const [fence] = await fencesOf(b, 'after-marker', 1);
    expect(fence).toBeGreaterThan(Number(ceiling));
    expect(await sql(`SELECT 1 FROM "${schema}".fence_live`)).toHaveLength(1);
  });
});

describe('a server crash', () => {
  let cluster: PostgresCluster | undefined;
  afterAll(() => cluster?.stop());

  it('never hands a fence out twice, though the grants before it were not flushed', async () => {
    // Nothing flushes the WAL but a commit that waits for it: no background writer, no
    // checkpoint, no autovacuum, and the WAL writer frozen below.
    cluster = await startPostgresCluster({
      settings: { bgwriter_lru_maxpages: 0, autovacuum: 'off', checkpoint_timeout: '1h' },
    });
    const s = 'oncelock';
    const first = make('advisory', cluster.url, s);
    await first.migrate();
    await fencesOf(first, 'k', 1);
    const walWriter = await cluster.walWriterPid();
    process.kill(walWriter, 'SIGSTOP');
    const before = await fencesOf(first, 'k', 150);
    const handedOut = Math.max(...before);

    await cluster.crash();
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    const [seq] = (await client.query(`SELECT last_value FROM "${s}".fence`)).rows as {
      last_value: string;
    }[];
    await client.end();
    // The crash lost the sequence's last advances: a plain nextval would hand these fences out again.
    expect(Number(seq?.last_value)).toBeLessThan(handedOut);

    for (const mode of ['advisory', 'table'] as const) {
      const after = await fencesOf(make(mode, cluster.url, s), `k-${mode}`, 2);
      expect(Math.min(...after)).toBeGreaterThan(handedOut);
    }
    const again = await fencesOf(make('advisory', cluster.url, s), 'k', 1);
    expect(Math.min(...again)).toBeGreaterThan(handedOut);
  });
});
