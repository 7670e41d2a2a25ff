import {
  fencedUpdate,
  lease,
  type PostgresBackend,
  postgresBackend,
  StaleFenceError,
} from '@oncelock/postgres';
import { spawnWorker, stopAllWorkers } from '@oncelock/testkit/faults';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { delay, dropSchema, PG_URL, sql, testSchema } from './helpers.js';

const schema = testSchema('faults');
const fixture = new URL('./fixtures/holder.mjs', import.meta.url);
const made: PostgresBackend[] = [];
const make = (mode: 'advisory' | 'table') => {
  const b = postgresBackend({ connectionString: PG_URL, schema, mode });
  made.push(b);
  return b;
};
const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
const holder = (mode: string, key: string, ttl: number) =>
  spawnWorker(fixture, [PG_URL, schema, mode, key, String(ttl)]);
type Held = { type: 'held'; fence: number };
const isType = (type: string) => (m: unknown) => (m as { type?: string }).type === type;

beforeAll(async () => {
  await make('advisory').migrate();
  await sql(`CREATE TABLE "${schema}".ledger (id int PRIMARY KEY, value text, fence bigint)`);
});
afterEach(async () => {
  await stopAllWorkers();
  await Promise.all(made.splice(0).map((b) => b.close()));
});
afterAll(async () => {
  await pool.end();
  await dropSchema(schema);
});

/** Tries every 20 ms until granted; resolves the milliseconds it took. */
async function takeWhenFree(b: PostgresBackend, key: string, limitMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    if ((await b.acquire({ key, owner: 'successor', ttl: 5000 })).granted) return performance.now() - start;
    await delay(20);
  }
  throw new Error(`${key} still held after ${limitMs} ms`);
}

describe('a holder process that dies or freezes', () => {
  it('advisory mode: a SIGKILLed holder frees its lock within a second, whatever its TTL', async () => {
    const key = `kill:${Date.now()}`;
    const worker = holder('advisory', key, 60_000);
    await worker.next(isType('held'), 10_000);
    const b = make('advisory');
    expect((await b.acquire({ key, owner: 'successor', ttl: 5000 })).granted).toBe(false);
    await worker.kill();
    expect(await takeWhenFree(b, key, 1000)).toBeLessThan(1000);
  });

  it.each(['advisory', 'table'] as const)(
    '%s mode: a frozen holder loses the lock at about its TTL; on resume its signal fires at once and its fenced write is rejected',
    async (mode) => {
      const key = `freeze:${mode}:${Date.now()}`;
      const id = mode === 'advisory' ? 1 : 2;
      await sql(`INSERT INTO "${schema}".ledger VALUES ($1, 'initial', NULL)`, [id]);
      const ttl = 600;
      const worker = holder(mode, key, ttl);
      const { fence: stale } = await worker.next<Held>(isType('held'), 10_000);
      await delay(250); // let its heartbeat extend once, as a live holder's would
      worker.freeze();
      const frozenAt = performance.now();
      const b = make(mode);
      const waited = await lease(b, key, { ttl: 5000, wait: 5000 });
      // Its last extension was at most a third of a TTL before the freeze: not free before that runs out.
      const freeAfter = performance.now() - frozenAt;
      expect(freeAfter).toBeGreaterThan(ttl / 2);
      expect(freeAfter).toBeLessThan(ttl + 1500);
      expect(waited.fence).toBeGreaterThan(stale);
      const write = {
        table: `${schema}.ledger`,
        set: { value: 'successor' },
        where: { id },
        fence: waited.fence,
      };
      expect(await fencedUpdate(pool, write)).toBe(1);
      const thawedAt = Date.now();
      worker.thaw();
      const lost = await worker.next<{ name: string; at: number }>(isType('lost'), 2000);
      expect(lost.name).toBe('LockLostError');
      expect(lost.at - thawedAt).toBeLessThan(1000);
      await worker.send({ type: 'write', table: `${schema}.ledger`, id, value: 'stale holder' });
      const answer = await worker.next<{ type: string; name?: string; latest?: number }>(
        (m) => isType('wrote')(m) || isType('rejected')(m),
        5000,
      );
      expect(answer).toMatchObject({ type: 'rejected', name: StaleFenceError.name, latest: waited.fence });
      const [row] = await sql<{ value: string }>(`SELECT value FROM "${schema}".ledger WHERE id = $1`, [id]);
      expect(row?.value).toBe('successor');
      await waited.release();
    },
  );
});
