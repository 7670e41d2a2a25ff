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

async function versionOneSchema(name: string): Promise<string> {
  const schema = testSchema(name);
  schemas.push(schema);
  const v1 = await readFile(new URL('./fixtures/schema-v1.sql', import.meta.url), 'utf8');
  await sql(v1.replaceAll('__schema__', schema));
  return schema;
}

const exists = async (schema: string, table: string) =>
  (await sql<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`"${schema}".${table}`]))[0]?.t !=
  null;

describe('migration', () => {
  it('brings a version 1 schema up to this version on first use, keeping its leases', async () => {
    const schema = await versionOneSchema('migrate_v1');
    expect(SCHEMA_VERSION).toBe(2);
    expect(await exists(schema, 'rates')).toBe(false);
    // A lease taken by the previous release, in table mode.
    const old = postgresBackend({ connectionString: postgresUrl, schema, mode: 'table', migrate: false });
    const lease = await old.acquire({ key: 'cursor', owner: 'old', ttl: 60_000 });
    await old.close();

    const b = postgresBackend({ connectionString: postgresUrl, schema, mode: 'table' });
    try {
      expect(await b.rateLimit({ key: 'r', limit: 1, per: 1000, burst: 0, reserve: 0 })).toMatchObject({
        allowed: true,
      });
      expect(await b.inspect('cursor')).toMatchObject({ owner: 'old', fence: lease.granted && lease.fence });
      expect(await b.saveState({ key: 'cursor', owner: 'old', value: '7' })).toBe(true);
      expect(await b.loadState('cursor')).toMatchObject({ value: '7', fence: lease.granted && lease.fence });
      const versions = await sql<{ version: number }>(`SELECT version FROM "${schema}".versions`);
      expect(versions.map((v) => v.version)).toEqual([2]);
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
    await sql(`INSERT INTO "${schema}".versions (version) VALUES (3); DROP TABLE "${schema}".states`);
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
