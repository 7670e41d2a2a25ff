// The guarantees table on "Choosing a backend" must say what each backend declares in code.
import { readFileSync } from 'node:fs';
import type { Guarantees, LockBackend } from '@oncelock/core';
import { keyvBackend } from '@oncelock/keyv';
import { memoryBackend } from '@oncelock/memory';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend, redlockBackend } from '@oncelock/redis';
import { Keyv } from 'keyv';
import { describe, expect, it } from 'vitest';

const page = readFileSync(new URL('../backends/index.md', import.meta.url), 'utf8');

/** The first markdown table of the page, as rows of trimmed cells (the header row first). */
function table(markdown: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows = [];
  for (let i = start; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!);
  return rows
    .filter((row) => !/^\|\s*-/.test(row))
    .map((row) =>
      row
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
}

/** How the page words each declared value. */
function describe_(g: Guarantees): Record<string, RegExp> {
  return {
    'mutual exclusion': { strict: /^strict/, quorum: /^quorum$/, 'best-effort': /^best effort$/ }[
      g.exclusion
    ],
    'fence strictly increasing per key': g.fencing ? /^yes$/ : /^no$/,
    "a dead holder's lock ends": {
      'with-process': /^with the process$/,
      'at-ttl': /^at TTL$/,
      'with-session': /^with its session$/,
    }[g.deadHolder],
    "a frozen holder's lock ends": {
      'not-applicable': /^n\/a$/,
      'at-ttl': /^at TTL$/,
      'server-timeout': /^server/,
    }[g.frozenHolder],
    'waiters woken on release': g.releaseNotifications ? /^yes$/ : /^poll$/,
    'concurrency limits': (g.maxLimit ?? 1) > 1 ? /^yes$/ : /^no$/,
  };
}

// Backends made without touching the network: clients connect lazily, pools on first query.
const lazy = { redis: { lazyConnect: true } };
const backends: Record<string, () => LockBackend> = {
  memory: () => memoryBackend(),
  redis: () => redisBackend({ url: 'redis://127.0.0.1:6379', ...lazy }),
  redlock: () =>
    redlockBackend({ urls: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2', 'redis://127.0.0.1:3'], ...lazy }),
  postgres: () => postgresBackend({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' }),
  keyv: () => keyvBackend({ store: new Keyv({ throwOnErrors: true }) }),
};

describe('the guarantees table', () => {
  const [header, ...rows] = table(page);
  const columns = header!.slice(1).map((cell) => /\[(\w+)\]/.exec(cell)?.[1] ?? cell);

  it('has one column per backend and one row per guarantee', () => {
    expect(columns).toEqual(Object.keys(backends));
    expect(rows.map((r) => r[0])).toEqual(Object.keys(describe_(memoryBackend().guarantees)));
  });

  for (const [name, make] of Object.entries(backends)) {
    it(`says what ${name} declares`, async () => {
      const backend = make();
      try {
        const expected = describe_(backend.guarantees);
        const column = columns.indexOf(name) + 1;
        for (const row of rows) expect(row[column], `${name}: ${row[0]}`).toMatch(expected[row[0]!]!);
      } finally {
        await backend.close();
      }
    });
  }
});
