import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresBackend } from '@oncelock/postgres';
import { delay } from '@oncelock/testkit';
import { spawnWorker, stopAllWorkers } from '@oncelock/testkit/faults';
import { postgresUrl } from '@oncelock/testkit/servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { installPacked, type PackedProject } from '../../../scripts/packed.mjs';
import { dropSchema, sql, testSchema } from './helpers.js';

// What users get: the packed @oncelock/core and @oncelock/postgres, with pg from the registry,
// installed with npm into an empty project and run from several processes at once.
const pkg = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const schema = testSchema('packed');
let project: PackedProject;

beforeAll(async () => {
  project = await installPacked([pkg('core'), pkg('postgres')], ['pg@^8.11.0']);
  await project.write(
    'sections.mjs',
    `
import { fencedUpdate, lease, postgresBackend } from '@oncelock/postgres';
import pg from 'pg';
const [url, schema, key, n] = process.argv.slice(2);
const backend = postgresBackend({ connectionString: url, schema });
const pool = new pg.Pool({ connectionString: url, max: 1 });
const sections = [];
for (let i = 0; i < Number(n); i++) {
  const l = await lease(backend, key, { ttl: 10000, wait: 60000 });
  // CLOCK_MONOTONIC is one clock for every process on the machine: the intervals compare.
  const start = process.hrtime.bigint();
  const { rows } = await pool.query('SELECT value FROM "' + schema + '".counter WHERE id = 1');
  await new Promise((r) => setTimeout(r, 2));
  await fencedUpdate(pool, { table: schema + '.counter', set: { value: rows[0].value + 1 }, where: { id: 1 }, fence: l.fence });
  sections.push({ start: String(start), end: String(process.hrtime.bigint()), fence: l.fence });
  await l.release();
}
await backend.close();
await pool.end();
console.log(JSON.stringify(sections));
`,
  );
  await project.write(
    'hold.mjs',
    `
import { lease, postgresBackend } from '@oncelock/postgres';
const [url, schema, key] = process.argv.slice(2);
const l = await lease(postgresBackend({ connectionString: url, schema }), key, { ttl: 60000 });
process.send({ type: 'held', fence: l.fence });
process.on('disconnect', () => process.exit(0));
setInterval(() => {}, 1000);
`,
  );
  const migrating = postgresBackend({ connectionString: postgresUrl, schema });
  await migrating.migrate();
  await migrating.close();
  await sql(`CREATE TABLE "${schema}".counter (id int PRIMARY KEY, value int NOT NULL, fence bigint)`);
  await sql(`INSERT INTO "${schema}".counter VALUES (1, 0, NULL)`);
}, 240_000);
afterAll(async () => {
  await stopAllWorkers();
  await project?.remove();
  await dropSchema(schema);
});

it('four processes on the packed package never overlap their critical sections', async () => {
  const perProcess = 15;
  const outputs = await Promise.all(
    Array.from({ length: 4 }, () =>
      project.node(join(project.dir, 'sections.mjs'), [
        postgresUrl,
        schema,
        'packed:counter',
        String(perProcess),
      ]),
    ),
  );
  const sections = outputs
    .flatMap((out) => JSON.parse(out) as Array<{ start: string; end: string; fence: number }>)
    .map((s) => ({ start: BigInt(s.start), end: BigInt(s.end), fence: s.fence }))
    .sort((a, b) => (a.start < b.start ? -1 : 1));
  expect(sections).toHaveLength(4 * perProcess);
  for (let i = 1; i < sections.length; i++) {
    expect(sections[i]!.start).toBeGreaterThan(sections[i - 1]!.end);
    expect(sections[i]!.fence).toBeGreaterThan(sections[i - 1]!.fence);
  }
  const [row] = await sql<{ value: number }>(`SELECT value FROM "${schema}".counter WHERE id = 1`);
  expect(row?.value).toBe(4 * perProcess);
}, 120_000);

it('a SIGKILLed holder of the packed package frees its lock within two seconds', async () => {
  const key = 'packed:killed';
  const worker = spawnWorker(join(project.dir, 'hold.mjs'), [postgresUrl, schema, key], { cwd: project.dir });
  await worker.next((m) => (m as { type?: string }).type === 'held', 20_000);
  const b = postgresBackend({ connectionString: postgresUrl, schema });
  try {
    expect((await b.acquire({ key, owner: 'next', ttl: 5000 })).granted).toBe(false);
    await worker.kill();
    const killedAt = performance.now();
    let granted = false;
    while (!granted && performance.now() - killedAt < 2000) {
      granted = (await b.acquire({ key, owner: 'next', ttl: 5000 })).granted;
      if (!granted) await delay(20);
    }
    expect(granted).toBe(true);
    expect(performance.now() - killedAt).toBeLessThan(2000);
  } finally {
    await b.close();
  }
}, 60_000);
