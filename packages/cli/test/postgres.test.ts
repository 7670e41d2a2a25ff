import { randomUUID } from 'node:crypto';
import { lease, postgresBackend } from '@oncelock/postgres';
import { postgresUrl } from '@oncelock/testkit/servers';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { oncelock, oneLineError } from './run.js';

// A schema of this file's own, dropped at the end.
const schema = `cli_${randomUUID().slice(0, 8)}`;
const advisory = postgresBackend({ connectionString: postgresUrl, schema });
const table = postgresBackend({ connectionString: postgresUrl, schema, mode: 'table' });

afterAll(async () => {
  await advisory.close();
  await table.close();
  const db = new pg.Client({ connectionString: postgresUrl });
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.end();
});

describe('oncelock against PostgreSQL (the built bin, as a child process)', () => {
  it('list and inspect see the holders of both modes; release frees an advisory-mode key for good', async () => {
    await using a = await lease(advisory, 'backfill:orders', { ttl: 30_000 });
    await using t = await lease(table, 'backfill:users', { ttl: 30_000 });
    for (const mode of ['advisory', 'table']) {
      const run = await oncelock(['list', postgresUrl, '--schema', schema, '--mode', mode, '--json']);
      expect(run.code, run.stderr).toBe(0);
      expect(
        (JSON.parse(run.stdout) as Array<{ key: string; owner: string }>).map((h) => [h.key, h.owner]),
      ).toEqual([
        ['backfill:orders', a.token],
        ['backfill:users', t.token],
      ]);
    }
    const inspected = await oncelock([
      'inspect',
      postgresUrl,
      'backfill:orders',
      '--schema',
      schema,
      '--json',
    ]);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ held: true, owner: a.token, fence: a.fence });

    // The holder's session still holds its advisory lock; the row decides, and the row is gone.
    const released = await oncelock([
      'release',
      postgresUrl,
      'backfill:orders',
      '--schema',
      schema,
      '--force',
      '--yes',
    ]);
    expect(released.code, released.stderr).toBe(0);
    expect(await advisory.inspect('backfill:orders')).toBeNull();
    await using next = await lease(table, 'backfill:orders', { ttl: 30_000, wait: false });
    expect(next.fence).toBeGreaterThan(a.fence ?? 0);
  });

  it('a schema oncelock never used: exit 1, and nothing is created', async () => {
    const missing = `cli_none_${randomUUID().slice(0, 8)}`;
    const run = await oncelock(['list', postgresUrl, '--schema', missing]);
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(
      /^oncelock: no oncelock tables at postgres:.*: nothing has taken a lock in this database and schema/,
    );
    const db = new pg.Client({ connectionString: postgresUrl });
    await db.connect();
    try {
      const { rowCount } = await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [missing]);
      expect(rowCount).toBe(0);
    } finally {
      await db.end();
    }
  });
});
