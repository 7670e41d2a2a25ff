import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type LockBackend, lease, OncelockError, tryLease } from '@oncelock/core';
import { fencedUpdate, postgresBackend } from '@oncelock/postgres';
import { redisBackend } from '@oncelock/redis';
import { postgresUrl, redisUrl } from '@oncelock/testkit/servers';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { pgExec } from '../src/labs/index.js';
import { fitsPostgres, hostileKey, METACHARACTERS } from './arbitraries.js';

// Claim: no user input is ever spliced into Lua or SQL. Keys and owners are data: they travel
// as KEYS/ARGV of fixed scripts and as parameters of fixed statements. Shown by watching what
// the backends send while hostile keys and owners go through every operation:
// - Redis: every command is EVALSHA or EVAL of one of the package's script files, unchanged;
// - Postgres: no statement text ever contains a key or owner, and hostile input produces no
//   statement text that plain input did not.

const require = createRequire(import.meta.url);
const marker = () => `zq${randomBytes(4).toString('hex')}`;
const hostileOwner = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 60 })
  .filter((s) => s.isWellFormed() && !s.includes('\0'));

/** Every operation of the public API once, on `key` with `owner`. */
async function exercise(backend: LockBackend, key: string, owner: string): Promise<void> {
  const held = await lease(backend, key, { ttl: 5000, owner });
  await held.extend();
  await backend.inspect(key);
  await backend.extendMany?.([{ key, owner, ttl: 5000 }]);
  await backend.list?.(key);
  expect(await tryLease(backend, key, { ttl: 5000 })).toBeNull();
  expect(await backend.release({ key, owner: `${owner}x` })).toBe(false);
  expect(await held.release()).toBe(true);
}

describe('no user input in Lua', () => {
  const dir = join(dirname(require.resolve('@oncelock/redis/package.json')), 'scripts');
  const scripts = readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .map((f) => readFileSync(join(dir, f), 'utf8'));
  const shas = new Set(scripts.map((s) => createHash('sha1').update(s).digest('hex')));
  const client = new Redis(redisUrl);
  const sent: Array<{ name: string; args: string[] }> = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    const c = command as unknown as { name: string; args: unknown[] };
    sent.push({ name: c.name.toLowerCase(), args: c.args.map(String) });
    return send(command, stream);
  };
  const backend = redisBackend({ client, prefix: `rel:splice:${marker()}:` });
  afterAll(async () => {
    await backend.close();
    await client.quit();
  });

  it('the scripts load no code at run time', () => {
    expect(scripts.length).toBeGreaterThanOrEqual(4);
    for (const s of scripts) expect(s).not.toMatch(/\b(loadstring|load|dofile|require)\s*\(/);
  });

  it('hostile keys and owners only ever travel as KEYS and ARGV of the unchanged script files', async () => {
    await fc.assert(
      fc.asyncProperty(hostileKey, hostileOwner, async (key, owner) => {
        sent.length = 0;
        await exercise(backend, key, owner);
        expect(sent.length).toBeGreaterThan(0);
        for (const { name, args } of sent) {
          if (name === 'info' || name === 'client' || name === 'select') continue; // connection set-up
          expect(['evalsha', 'eval'], name).toContain(name);
          if (name === 'evalsha') expect(shas.has(args[0]!), 'an unknown script sha').toBe(true);
          else expect(scripts, 'a script that is not one of the files').toContain(args[0]);
        }
      }),
      { numRuns: 40, endOnFailure: true },
    );
  });
});

describe('no user input in SQL', () => {
  const schema = `rel_splice_${randomBytes(3).toString('hex')}`;
  const texts = new Set<string>();
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string };
      texts.add(typeof first === 'string' ? first : (first?.text ?? ''));
      return query(...args);
    };
  });
  afterAll(async () => {
    await pool.end();
    await pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it.each(['advisory', 'table'] as const)(
    '%s mode: statements never contain a key or an owner, and do not vary with them',
    async (mode) => {
      const backend = postgresBackend({ pool, schema, mode });
      try {
        // Plain input first: the statements the backend sends for these operations.
        for (let i = 0; i < 3; i++) await exercise(backend, `plain-${i}`, `owner-${i}`);
        const plain = new Set(texts);
        await fc.assert(
          fc.asyncProperty(hostileKey.filter(fitsPostgres), hostileOwner, async (hostile, owner) => {
            // A marker that exists nowhere else: if it shows up in a statement, input was spliced in.
            const m = marker();
            const key = fitKey(`${m}${hostile}`);
            texts.clear();
            await exercise(backend, key, `${m}${owner}`);
            for (const text of texts) {
              expect(text).not.toContain(m);
              expect(plain.has(text), `a statement plain input never produced:\n${text}`).toBe(true);
            }
          }),
          { numRuns: 30, endOnFailure: true },
        );
      } finally {
        await backend.close();
      }
    },
    120_000,
  );
});

/** The longest prefix of `text`, in whole code points, that fits core's key limit of 1,024 UTF-8 bytes. */
function fitKey(text: string): string {
  let bytes = 0;
  let out = '';
  for (const c of text) {
    bytes += Buffer.byteLength(c);
    if (bytes > 1024) break;
    out += c;
  }
  return out;
}

describe('fencedUpdate with hostile names and values', () => {
  // The helper's table and column names are identifiers the user passes; its values are data.
  // Hostile values must be stored as given; hostile names must fail, and run nothing else.
  const schema = `rel_fenced_${randomBytes(3).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
  pool.on('error', () => {});
  const one = async (text: string, values?: unknown[]) => (await pool.query(text, values)).rows[0];
  afterAll(async () => {
    await pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });
  const piece = fc
    .array(fc.constantFrom(...METACHARACTERS), { minLength: 1, maxLength: 5 })
    .map((a) => a.join(''));

  it('stores hostile values as data, and hostile names touch nothing', async () => {
    await pgExec(`CREATE SCHEMA "${schema}";
      CREATE TABLE "${schema}".docs (id text PRIMARY KEY, body text, fence bigint);
      CREATE TABLE "${schema}".canary (n int);
      INSERT INTO "${schema}".canary VALUES (1);`);
    let fence = 1;
    await fc.assert(
      fc.asyncProperty(piece, piece, piece, async (id, body, name) => {
        const clean = (v: string) => v.replaceAll('\0', ''); // PostgreSQL text holds no NUL
        await pool.query(`INSERT INTO "${schema}".docs (id) VALUES ($1) ON CONFLICT DO NOTHING`, [clean(id)]);
        const table = `${schema}.docs`;
        expect(
          await fencedUpdate(pool, {
            table,
            set: { body: clean(body) },
            where: { id: clean(id) },
            fence: ++fence,
          }),
        ).toBe(1);
        expect((await one(`SELECT body FROM "${schema}".docs WHERE id = $1`, [clean(id)]))?.body).toBe(
          clean(body),
        );
        // A hostile name is refused or fails as an unknown name; the row and the canary are untouched.
        const attempts = [
          { table: `${schema}.${name}`, set: { body: 'x' }, where: { id: clean(id) } },
          { table, set: { [name]: 'x' }, where: { id: clean(id) } },
          { table, set: { body: 'x' }, where: { [name]: clean(id) } },
        ];
        for (const attempt of attempts) {
          if (name === 'docs' || name === 'body' || name === 'id') continue;
          await expect(fencedUpdate(pool, { ...attempt, fence: ++fence })).rejects.toBeInstanceOf(
            OncelockError,
          );
        }
        expect((await one(`SELECT body FROM "${schema}".docs WHERE id = $1`, [clean(id)]))?.body).toBe(
          clean(body),
        );
        expect((await one(`SELECT count(*)::int AS n FROM "${schema}".canary`))?.n).toBe(1);
      }),
      { numRuns: 40, endOnFailure: true },
    );
  });
});
