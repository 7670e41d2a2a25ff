import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lease, redisBackend } from '@oncelock/redis';
import { eventually } from '@oncelock/testkit';
import { freePort, redisUrl } from '@oncelock/testkit/servers';
import { afterAll, describe, expect, it } from 'vitest';
import { oncelock, oneLineError } from './run.js';

const backend = redisBackend({ url: redisUrl });
/** A diagnostics_channel subscriber that writes each event to a file, as an audit hook would. */
const HOOK = fileURLToPath(new URL('./fixtures/record-events.mjs', import.meta.url));
afterAll(() => backend.close());

/** A key prefix no other test uses, so `list --prefix` sees only this test's leases. */
const space = () => `cli-${randomUUID().slice(0, 8)}:`;

describe('oncelock against Redis (the built bin, as a child process)', () => {
  it('list: every lease under the prefix, as a table and as JSON', async () => {
    const ns = space();
    await using a = await lease(backend, `${ns}scan:1`, { ttl: 60_000 });
    await using b = await lease(backend, `${ns}scan:2`, { ttl: 60_000 });
    const table = await oncelock(['list', redisUrl, '--prefix', ns]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(`│ ${ns}scan:1 │ ${a.token} │\\s+${a.fence} │\\s+[\\d.]+m?s ago │\\s+5\\d.\\ds │`),
    );
    expect(table.stdout).toContain(b.token);

    const json = await oncelock(['list', redisUrl, '--prefix', ns, '--json']);
    const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.key, r.owner, r.fence])).toEqual([
      [`${ns}scan:1`, a.token, a.fence],
      [`${ns}scan:2`, b.token, b.fence],
    ]);
    for (const r of rows) {
      expect(r.ttlRemaining).toBeGreaterThan(50_000);
      expect(Math.abs(Date.now() - (r.since as number))).toBeLessThan(10_000);
    }

    const empty = await oncelock(['list', redisUrl, '--prefix', space()]);
    expect([empty.code, empty.stdout]).toEqual([
      0,
      `no locks held under "${empty.stdout.match(/"(.*)"/)?.[1]}"\n`,
    ]);
  });

  it('inspect: the holder of a key (exit 0), or "free" (exit 1)', async () => {
    const ns = space();
    await using l = await lease(backend, `${ns}report`, { ttl: 30_000 });
    const held = await oncelock(['inspect', redisUrl, `${ns}report`, '--json']);
    expect(held.code).toBe(0);
    expect(JSON.parse(held.stdout)).toMatchObject({
      held: true,
      key: `${ns}report`,
      owner: l.token,
      fence: l.fence,
    });
    const text = await oncelock(['inspect', redisUrl, `${ns}report`]);
    expect(text.stdout).toMatch(new RegExp(`│ owner\\s+│ ${l.token}\\s+│`));

    const free = await oncelock(['inspect', redisUrl, `${ns}other`]);
    expect([free.code, free.stdout]).toEqual([1, `"${ns}other" is free\n`]);
    const freeJson = await oncelock(['inspect', redisUrl, `${ns}other`, '--json']);
    expect([freeJson.code, JSON.parse(freeJson.stdout)]).toEqual([1, { held: false, key: `${ns}other` }]);
  });

  it('release: refused without --force, or without --yes off a terminal; with both, frees the key and the holder loses it', async () => {
    const key = `${space()}stuck`;
    const l = await lease(backend, key, { ttl: 3_000 });
    try {
      const unforced = await oncelock(['release', redisUrl, key]);
      expect([unforced.code, oneLineError(unforced)]).toEqual([
        2,
        'oncelock: release takes a lock away from a running holder; pass --force to do it',
      ]);
      const unconfirmed = await oncelock(['release', redisUrl, key, '--force']);
      expect([unconfirmed.code, oneLineError(unconfirmed)]).toEqual([
        2,
        'oncelock: release needs a confirmation: run it in a terminal, or pass --yes',
      ]);
      expect((await backend.inspect(key))?.owner).toBe(l.token);

      const done = await oncelock(['release', redisUrl, key, '--force', '--yes']);
      expect(done.code).toBe(0);
      expect(done.stdout).toContain(`released "${key}" (owner ${l.token}, fence ${l.fence})`);
      expect(await backend.inspect(key)).toBeNull();
      // The holder's next heartbeat finds the key gone and fires its signal.
      expect(await eventually(() => l.signal.aborted, 5_000)).toBe(true);

      const again = await oncelock(['release', redisUrl, key, '--force', '--yes', '--json']);
      expect([again.code, JSON.parse(again.stdout)]).toEqual([1, { key, released: false, holder: null }]);
    } finally {
      await l.release();
    }
  });

  it('release --force reports a forced event on the oncelock:event diagnostics channel, for a hook loaded with --import', async () => {
    const key = `${space()}tenant`;
    // Permits: the oldest is the holder inspect shows, released with its key's limit.
    const a = await lease(backend, key, { ttl: 30_000, limit: 2 });
    const b = await lease(backend, key, { ttl: 30_000, limit: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'oncelock-events-'));
    const file = join(dir, 'events.jsonl');
    try {
      const hooked = { nodeArgs: ['--import', HOOK], env: { ONCELOCK_EVENTS_FILE: file } };
      const done = await oncelock(['release', redisUrl, key, '--force', '--yes'], hooked);
      expect(done.code, done.stderr).toBe(0);
      const events = () =>
        readFileSync(file, 'utf8')
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line));
      expect(events()).toEqual([
        { type: 'forced', backend: 'redis', key, owner: a.token, fence: a.fence, released: true },
      ]);
      expect((await backend.inspect(key))?.holders?.map((h) => h.owner)).toEqual([b.token]);
      // A key that is free is not released, so nothing is reported.
      const free = await oncelock(['release', redisUrl, `${key}:other`, '--force', '--yes'], hooked);
      expect(free.code).toBe(1);
      expect(events()).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await a.release();
      await b.release();
    }
  });

  it('a bad URL exits 2 and a server that is down exits 3, each with one line and no stack', async () => {
    const bad = await oncelock(['list', 'redis//127.0.0.1:6379']);
    expect([bad.code, oneLineError(bad)]).toEqual([
      2,
      'oncelock: "redis//127.0.0.1:6379" is not a URL; expected redis://..., rediss://..., postgres://..., postgresql://...',
    ]);
    const port = await freePort();
    const down = await oncelock(['inspect', `redis://127.0.0.1:${port}`, 'k', '--timeout', '1000']);
    expect(down.code).toBe(3);
    expect(oneLineError(down)).toMatch(
      new RegExp(`^oncelock: cannot use redis://127.0.0.1:${port}: .*ECONNREFUSED`),
    );
    expect(down.ms).toBeLessThan(5_000);
    const pgDown = await oncelock([
      'list',
      `postgres://postgres@127.0.0.1:${port}/test`,
      '--timeout',
      '1000',
    ]);
    expect(pgDown.code).toBe(3);
    expect(oneLineError(pgDown)).toMatch(
      /^oncelock: cannot use postgres:\/\/postgres@127.0.0.1:\d+\/test: .*ECONNREFUSED/,
    );
  });
});
