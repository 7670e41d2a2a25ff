import {
  fencedUpdate,
  InvalidArgumentError,
  lease,
  postgresBackend,
  StaleFenceError,
} from '@oncelock/postgres';
import { delay } from '@oncelock/testkit';
import { postgresUrl } from '@oncelock/testkit/servers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testSchema } from './helpers.js';

const schema = testSchema('fenced');
const table = `${schema}.accounts`;
const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });

beforeAll(async () => {
  await pool.query(`CREATE SCHEMA "${schema}"`);
  await pool.query(`CREATE TABLE "${schema}".accounts (id int PRIMARY KEY, "balance due" int, fence bigint)`);
  await pool.query(`INSERT INTO "${schema}".accounts VALUES (1, 0, NULL), (2, 0, NULL)`);
});
afterAll(async () => {
  await pool.end();
  await dropSchema(schema);
});

const balanceOf = async (id: number) =>
  (
    await pool.query(`SELECT "balance due" AS b, fence::int AS f FROM "${schema}".accounts WHERE id = $1`, [
      id,
    ])
  ).rows[0];

describe('fencedUpdate', () => {
  it('applies writes whose fence is not older than the last one, and rejects older ones with StaleFenceError', async () => {
    const write = (fence: number, balance: number) =>
      fencedUpdate(pool, { table, set: { 'balance due': balance }, where: { id: 1 }, fence });
    expect(await write(5, 10)).toBe(1);
    expect(await write(5, 11)).toBe(1); // the same lease writes again
    const error = await write(4, 99).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleFenceError);
    expect(error).toMatchObject({ code: 'ONCELOCK_STALE_FENCE', fence: 4, latest: 5 });
    expect(await balanceOf(1)).toEqual({ b: 11, f: 5 });
    expect(await write(7, 12)).toBe(1);
    expect(await balanceOf(1)).toEqual({ b: 12, f: 7 });
    // No such row is not a stale fence: nothing to update.
    expect(await fencedUpdate(pool, { table, set: { 'balance due': 1 }, where: { id: 404 }, fence: 1 })).toBe(
      0,
    );
  });

  it('shields a store from a holder whose lease ended while it was still writing', async () => {
    const backend = postgresBackend({ connectionString: postgresUrl, schema, mode: 'table' });
    try {
      const key = 'accounts:2';
      const slow = await lease(backend, key, { ttl: 200, autoExtend: false });
      await delay(300); // the slow holder stalls past its TTL...
      const next = await lease(backend, key, { ttl: 5000 });
      await fencedUpdate(pool, { table, set: { 'balance due': 50 }, where: { id: 2 }, fence: next.fence });
      // ...and its late write arrives after its successor's.
      await expect(
        fencedUpdate(pool, { table, set: { 'balance due': 1 }, where: { id: 2 }, fence: slow.fence }),
      ).rejects.toBeInstanceOf(StaleFenceError);
      expect((await balanceOf(2)).b).toBe(50);
      await next.release();
    } finally {
      await backend.close();
    }
  });

  it('works inside a transaction with a client checked out of a pool', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      expect(
        await fencedUpdate(client, { table, set: { 'balance due': 70 }, where: { id: 1 }, fence: 8 }),
      ).toBe(1);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await balanceOf(1)).toEqual({ b: 12, f: 7 });
  });

  it('refuses bad input with InvalidArgumentError before any round trip', async () => {
    const calls: string[] = [];
    const counting = {
      query: async (text: string) => {
        calls.push(text);
        return { rowCount: 0, rows: [] };
      },
    };
    const ok = { table, set: { 'balance due': 1 }, where: { id: 1 }, fence: 1 };
    const bad: unknown[] = [
      undefined,
      { ...ok, fence: -1 },
      { ...ok, fence: 1.5 },
      { ...ok, fence: Number.NaN },
      { ...ok, fence: '3' },
      { ...ok, table: '' },
      { ...ok, table: 42 },
      { ...ok, set: {} },
      { ...ok, set: null },
      { ...ok, where: {} },
      { ...ok, where: [] },
      { ...ok, fenceColumn: '' },
      { ...ok, set: { ['x'.repeat(64)]: 1 } },
    ];
    for (const options of bad) {
      await expect(fencedUpdate(counting, options as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(calls).toEqual([]);
  });
});
