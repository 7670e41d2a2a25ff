import { readFile } from 'node:fs/promises';
import { postgresBackend, SCHEMA_VERSION } from '@oncelock/postgres';
import { postgresUrl } from '@oncelock/testkit/servers';
import { afterAll, describe, expect, it } from 'vitest';
import { dropSchema, sql, testSchema } from './helpers.js';

// Existing users migrate: a schema made by the previous release (version 1) is brought up to this
// one by the first use, with the leases it holds left as they were; a schema of a newer release is
// left alone.
const schemas: string[] = [];
afterAll(() => Promise.all(schemas.map(dropSchema)));

async function schemaOf(version: 1 | 2 | 4, name: string): Promise<string> {
  const schema = testSchema(name);
  schemas.push(schema);
  const text = await readFile(new URL(`./fixtures/schema-v${version}.sql`, import.meta.url), 'utf8');
  await sql(text.replaceAll('__schema__', schema));
  return schema;
}
const versionOneSchema = (name: string) => schemaOf(1, name);

const exists = async (schema: string, table: string) =>
  (await sql<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`"${schema}".${table}`]))[0]?.t !=
  null;

describe('migration', () => {
  it('brings a version 1 schema up to this version on first use, keeping its leases', async () => {
    const schema = await versionOneSchema('migrate_v1');
    expect(SCHEMA_VERSION).toBe(6);
    expect(await exists(schema, 'rates')).toBe(false);
    // A lease taken by the previous release, in table mode: its row, as that release writes it.
    const [lease] = await sql<{ fence: string }>(
      `INSERT INTO "${schema}".locks (key, owner, fence, since, expires_at)
       VALUES ('cursor', 'old', nextval('"${schema}".fence'), now(), now() + interval '60 seconds') RETURNING fence`,
    );

    const b = postgresBackend({ connectionString: postgresUrl, schema, mode: 'table' });
    try {
      expect(await b.rateLimit({ key: 'r', limit: 1, per: 1000, burst: 0, reserve: 0 })).toMatchObject({
        allowed: true,
      });
      expect(await b.inspect('cursor')).toMatchObject({ owner: 'old', fence: Number(lease?.fence) });
      expect(await b.saveState({ key: 'cursor', owner: 'old', value: '7' })).toBe(true);
      expect(await b.loadState('cursor')).toMatchObject({ value: '7', fence: Number(lease?.fence) });
      const versions = await sql<{ version: number }>(`SELECT version FROM "${schema}".versions`);
      expect(versions.map((v) => v.version)).toEqual([6]);
    } finally {
      await b.close();
    }
  });

  it('brings a version 2 schema up to this version, and the permits call of version 2 still works', async () => {
    const schema = await schemaOf(2, 'migrate_v2');
    expect(await exists(schema, 'waiters')).toBe(false);
    const b = postgresBackend({ connectionString: postgresUrl, schema, mode: 'table' });
    try {
      await b.migrate();
      expect(await exists(schema, 'waiters')).toBe(true);
      const versions = await sql<{ version: number }>(`SELECT version FROM "${schema}".versions ORDER BY 1`);
      expect(versions.map((v) => v.version)).toEqual([2, 6]);
      // A process of version 2, still running during a deploy, calls permit_acquire with six arguments.
      const [old] = await sql<{ granted_fence: string | null }>(
        `SELECT granted_fence FROM "${schema}".permit_acquire('p', 'old', 60000, 2, 7, NULL)`,
      );
      expect(old?.granted_fence).not.toBeNull();
      expect(await b.inspect('p')).toMatchObject({ owner: 'old', limit: 2 });
      // And releases it with the four arguments of releases before version 6.
      const [released] = await sql<{ live: boolean }>(
        `SELECT "${schema}".permit_release('p', 'old', 7, 'unused') AS live`,
      );
      expect(released?.live).toBe(true);
      expect(await b.inspect('p')).toBeNull();
    } finally {
      await b.close();
    }
  });

  it('brings a version 4 schema up to this version: a waiter of version 4 keeps its place, without terms', async () => {
    const schema = await schemaOf(4, 'migrate_v4');
    // A process of version 4 waits for a key: its row, as that release writes it.
    await sql(
      `INSERT INTO "${schema}".waiters (key, owner, since, pid, expires_at)
       VALUES ('k', 'old', clock_timestamp(), pg_backend_pid(), now() + interval '60 seconds')`,
    );
    const b = postgresBackend({ connectionString: postgresUrl, schema });
    try {
      await b.migrate();
      const versions = await sql<{ version: number }>(`SELECT version FROM "${schema}".versions ORDER BY 1`);
      expect(versions.map((v) => v.version)).toEqual([4, 6]);
      const [row] = await sql(`SELECT owner, ttl_ms, anchor, lock_pid, lock_id FROM "${schema}".waiters`);
      expect(row).toEqual({ owner: 'old', ttl_ms: null, anchor: null, lock_pid: null, lock_id: null });
    } finally {
      await b.close();
    }
  });

  it('leaves a schema of a newer version as it is, and works on it', async () => {
    const schema = await versionOneSchema('migrate_newer');
    const first = postgresBackend({ connectionString: postgresUrl, schema });
    await first.migrate();
    await first.close();
    // A newer release has migrated (say it dropped what this one would create again).
    await sql(`INSERT INTO "${schema}".versions (version) VALUES (7); DROP TABLE "${schema}".states`);
    const b = postgresBackend({ connectionString: postgresUrl, schema });
    try {
      await b.migrate();
      expect(await exists(schema, 'states')).toBe(false);
      expect(await b.acquire({ key: 'k', owner: 'o', ttl: 1000 })).toMatchObject({ granted: true });
    } finally {
      await b.close();
    }
  });
});
