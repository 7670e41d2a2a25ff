// The samples that need a real server, run against the Redis and PostgreSQL the test suite uses.
import { randomUUID } from 'node:crypto';
import { postgresBackend, StaleFenceError } from '@oncelock/postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { settle } from '../snippets/backend-postgres.js';

const PG = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `docs_snippets_${process.pid}`;

describe('getting started on Redis', () => {
  it('runs the five lines and closes the backend', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      // Top-level code: builds a report under a Redis lock, then closes the connection it made.
      await import('../snippets/getting-started.js');
      expect(log).not.toHaveBeenCalled(); // nobody else held the key, so it ran
    } finally {
      log.mockRestore();
    }
  });
});

describe('fenced writes on PostgreSQL', () => {
  let db: pg.Pool;
  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: PG });
    await admin.connect();
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await admin.end();
    db = new pg.Pool({ connectionString: PG, options: `-c search_path=${schema}` });
    await db.query('CREATE TABLE balances (account text PRIMARY KEY, amount bigint NOT NULL, fence bigint)');
  });
  afterAll(async () => {
    await db?.query(`DROP SCHEMA ${schema} CASCADE`);
    await db?.end();
  });

  it('settle writes under a lease, and a write with an older fence is refused', async () => {
    const account = randomUUID();
    await db.query('INSERT INTO balances (account, amount) VALUES ($1, 0)', [account]);
    const backend = postgresBackend({ connectionString: PG });
    try {
      await settle(backend, db, account, 42);
      const { rows } = await db.query('SELECT amount, fence FROM balances WHERE account = $1', [account]);
      expect(Number(rows[0].amount)).toBe(42);
      const fence = Number(rows[0].fence);
      expect(fence).toBeGreaterThan(0);

      // A holder whose lease ended long ago writes late with its old, lower fence.
      await settle(backend, db, account, 43);
      const { fencedUpdate } = await import('@oncelock/postgres');
      await expect(
        fencedUpdate(db, { table: 'balances', set: { amount: 1 }, where: { account }, fence }),
      ).rejects.toBeInstanceOf(StaleFenceError);
      const after = await db.query('SELECT amount FROM balances WHERE account = $1', [account]);
      expect(Number(after.rows[0].amount)).toBe(43);
    } finally {
      await backend.close();
    }
  });
});
