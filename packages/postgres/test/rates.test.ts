import type { RateDecision, RateRequest } from '@oncelock/core/backend';
import { memoryBackendFor } from '@oncelock/core/backend';
import { type PostgresBackend, type PostgresMode, postgresBackend } from '@oncelock/postgres';
import { delay } from '@oncelock/testkit';
import { seededRandom } from '@oncelock/testkit/faults';
import { postgresUrl } from '@oncelock/testkit/servers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, sql, testSchema } from './helpers.js';

// Rate decisions on the real server: the same numbers as core's reference GCRA, and two sessions
// deciding on one key at once never both take one slot.
const schema = testSchema('rates');
const client = new pg.Client({ connectionString: postgresUrl });
const backends: PostgresBackend[] = [];
const make = (mode: PostgresMode) => {
  const b = postgresBackend({ connectionString: postgresUrl, schema, mode });
  backends.push(b);
  return b;
};

beforeAll(async () => {
  await make('advisory').migrate();
  await client.connect();
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await client.end();
  await dropSchema(schema);
});

/** A `rate_limit` row: the decision's columns, the database time it was made at and the `tat` stored. */
type Row = Record<'remaining' | 'slot_at' | 'retry_after' | 'new_tat', number | null> & {
  allowed: boolean;
  delay: number;
  now_ms: number;
};

/** The statement the backend sends, with the `now` and new `tat` it decided with. */
async function decideInSql(key: string, r: RateRequest): Promise<Row> {
  const { rows } = await client.query<Row>(`SELECT r.* FROM "${schema}".rate_limit($1, $2, $3, $4, $5) r`, [
    key,
    r.limit,
    r.per,
    r.burst,
    r.reserve,
  ]);
  return rows[0]!;
}

const decisionOf = (row: Row): RateDecision =>
  row.allowed
    ? { allowed: true, remaining: row.remaining!, delay: row.delay, at: row.slot_at! }
    : { allowed: false, retryAfter: row.retry_after! };

const storedTat = async (key: string) =>
  (await client.query<{ tat: number }>(`SELECT tat FROM "${schema}".rates WHERE key = $1`, [key])).rows[0]
    ?.tat;

describe('rateLimit on PostgreSQL', () => {
  it('decides exactly as the reference GCRA, given the database time of each decision', async () => {
    // The memory store runs core's gcra(); its clock is set to the time the database decided at.
    let now = 0;
    const reference = memoryBackendFor('test', { clock: () => now });
    const shapes: RateRequest[] = [
      { key: 'ref-a', limit: 2, per: 1000, burst: 1, reserve: 0 },
      { key: 'ref-b', limit: 3, per: 700, burst: 2, reserve: 0 },
      { key: 'ref-c', limit: 4, per: 1000, burst: 0, reserve: 600 },
      { key: 'ref-d', limit: 1, per: 300, burst: 3, reserve: 1000 },
    ];
    const next = seededRandom(7);
    const seen = { granted: 0, refused: 0, delayed: 0 };
    for (let i = 0; i < 160; i++) {
      const request = shapes[i % shapes.length]!;
      // Now and then an idle spell, so that some keys' tat has passed.
      if (next() < 0.1) await delay(Math.floor(next() * 400));
      const row = await decideInSql(request.key, request);
      now = row.now_ms;
      const expected = await reference.rateLimit!(request);
      expect(decisionOf(row), `decision ${i} on ${request.key}`).toEqual(expected);
      if (row.allowed) expect(await storedTat(request.key)).toBe(row.new_tat);
      seen.granted += row.allowed ? 1 : 0;
      seen.refused += row.allowed ? 0 : 1;
      seen.delayed += row.allowed && row.delay > 0 ? 1 : 0;
    }
    // The run took every branch: grants at once, grants ahead of time, refusals.
    expect(seen.granted - seen.delayed).toBeGreaterThan(0);
    expect(seen.delayed).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
    await reference.close();
  });

  for (const mode of ['advisory', 'table'] as const) {
    it(`${mode} mode: grants 1 + burst at once, then refuses without writing, until the pace allows`, async () => {
      const b = make(mode);
      const request = { key: `burst-${mode}`, limit: 4, per: 60_000, burst: 2, reserve: 0 };
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await b.rateLimit(request));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
      expect(decisions.slice(0, 3).map((d) => d.allowed && d.remaining)).toEqual([2, 1, 0]);
      const tat = await storedTat(request.key);
      const refused = await b.rateLimit(request);
      // Three grants of 15 s each are stored: the next slot is at most 15 s away.
      expect(refused).toMatchObject({ allowed: false });
      expect(!refused.allowed && refused.retryAfter).toBeGreaterThan(0);
      expect(!refused.allowed && refused.retryAfter).toBeLessThanOrEqual(15_000);
      expect(await storedTat(request.key)).toBe(tat);
      // Reserving: a caller that will wait gets that slot now, 15 s after the first grant's.
      const reserved = await b.rateLimit({ ...request, reserve: 20_000 });
      const [first] = decisions;
      if (!reserved.allowed || !first?.allowed) throw new Error('expected grants');
      expect(reserved.remaining).toBe(0);
      expect(reserved.delay).toBeGreaterThan(0);
      expect(reserved.at).toBeCloseTo(first.at + 15_000, 0);
    });
  }

  it('serializes concurrent decisions on one key: never more than limit + burst in any window', async () => {
    // Two backends of each mode, each with a pool of 4: up to 16 sessions deciding at once.
    const contenders = [...Array(4)].map((_, i) => make(i % 2 === 0 ? 'advisory' : 'table'));
    const rates = [
      { key: 'race-0', limit: 20, per: 400, burst: 0, reserve: 0 },
      { key: 'race-1', limit: 10, per: 200, burst: 5, reserve: 0 },
      { key: 'race-2', limit: 8, per: 400, burst: 2, reserve: 150 },
    ];
    const granted = new Map<string, number[]>(rates.map((r) => [r.key, []]));
    const refused = new Map<string, number>(rates.map((r) => [r.key, 0]));
    const until = performance.now() + 1500;
    await Promise.all(
      contenders.flatMap((b) =>
        [...Array(4)].map(async (_, lane) => {
          for (let i = lane; performance.now() < until; i++) {
            const r = rates[i % rates.length]!;
            const d = await b.rateLimit(r);
            if (d.allowed) granted.get(r.key)!.push(d.at);
            else refused.set(r.key, refused.get(r.key)! + 1);
          }
        }),
      ),
    );
    for (const r of rates) {
      // Asked for faster than the rate: the limit was reached, so the count below means something.
      expect(refused.get(r.key)).toBeGreaterThan(0);
      const at = granted.get(r.key)!.sort((x, y) => x - y);
      expect(at.length).toBeGreaterThan(r.limit + r.burst);
      // Half-open windows [at_i, at_i + per), less a microsecond for float8 rounding.
      let most = 0;
      for (let i = 0, j = 0; i < at.length; i++) {
        while (j < at.length && at[j]! < at[i]! + r.per - 0.001) j++;
        most = Math.max(most, j - i);
      }
      expect(most, `most starts of ${r.key} in one window`).toBeLessThanOrEqual(r.limit + r.burst);
    }
  });

  it('forgets keys whose rate is idle, which decides as if they were never there', async () => {
    const b = make('table');
    const request = { key: 'idle', limit: 1000, per: 1000, burst: 0, reserve: 0 };
    await b.rateLimit(request);
    await sql(`UPDATE "${schema}".rates SET tat = tat - 10000 WHERE key = $1`, [request.key]);
    // The backend prunes once per 1000 decisions.
    for (let i = 0; i < 1000; i++) await b.rateLimit({ ...request, key: `busy-${i % 3}` });
    while ((await storedTat(request.key)) !== undefined) await delay(10);
    expect(await b.rateLimit(request)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('refuses a key with NUL before any round trip', async () => {
    await expect(
      make('table').rateLimit({ key: 'a\0b', limit: 1, per: 1000, burst: 0, reserve: 0 }),
    ).rejects.toThrow(/NUL/);
  });
});
