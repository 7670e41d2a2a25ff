import { fencedUpdate, type Lease, postgresBackend, StaleFenceError } from '@oncelock/postgres';
import { spawnWorker, type Worker } from '@oncelock/testkit/faults';
import { holderFaultSuite } from '@oncelock/testkit/holder-faults';
import { postgresUrl } from '@oncelock/testkit/servers';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { dropSchema, sql, testSchema } from './helpers.js';

// Holders in child processes, killed and frozen for real, in both modes. What only PostgreSQL
// adds: an advisory lock ends with its holder's session, and the thawed holder's fenced write is
// refused by the table it writes to.
const schema = testSchema('faults');
const fixture = new URL('./fixtures/holder.mjs', import.meta.url);
const ledger = `${schema}.ledger`;
const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
let rows = 0;

beforeAll(async () => {
  const b = postgresBackend({ connectionString: postgresUrl, schema });
  await b.migrate();
  await b.close();
  await sql(`CREATE TABLE "${schema}".ledger (id int PRIMARY KEY, value text, fence bigint)`);
});
afterAll(async () => {
  await pool.end();
  await dropSchema(schema);
});

/** The successor writes with its fence; then the stale holder's write with its own is refused. */
async function staleWriteRefused({ holder, successor }: { holder: Worker; successor: Lease }) {
  const id = ++rows;
  await sql(`INSERT INTO "${schema}".ledger VALUES ($1, 'initial', NULL)`, [id]);
  const write = { table: ledger, set: { value: 'successor' }, where: { id }, fence: successor.fence };
  expect(await fencedUpdate(pool, write)).toBe(1);
  await holder.send({ type: 'write', table: ledger, id, value: 'stale holder' });
  const answer = await holder.next<{ type: string }>((m) =>
    /^(wrote|rejected)$/.test((m as { type: string }).type),
  );
  expect(answer).toMatchObject({ type: 'rejected', name: StaleFenceError.name, latest: successor.fence });
  const [row] = await sql<{ value: string }>(`SELECT value FROM "${schema}".ledger WHERE id = $1`, [id]);
  expect(row?.value).toBe('successor');
}

for (const mode of ['advisory', 'table'] as const) {
  holderFaultSuite({
    name: `postgres ${mode} mode`,
    holder: (key, ttl) => spawnWorker(fixture, [postgresUrl, schema, mode, key, String(ttl)]),
    create: () => postgresBackend({ connectionString: postgresUrl, schema, mode }),
    killedFree: mode === 'advisory' ? 'at-once' : 'ttl',
    afterThaw: staleWriteRefused,
  });
}
