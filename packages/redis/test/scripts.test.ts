import { readdirSync, readFileSync } from 'node:fs';
import { newToken } from '@oncelock/core/backend';
import { lease, redisBackend } from '@oncelock/redis';
import { delay } from '@oncelock/testkit';
import { type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

// SCRIPT FLUSH would make every other suite on the shared Redis reload its scripts: use our own server.
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

describe('Lua scripts', () => {
  it('are real files named name-<numkeys>.lua, each opening with a KEYS/ARGV header', () => {
    const dir = new URL('../scripts/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.lua'));
    expect(files.sort()).toEqual([
      'acquire-5.lua',
      'extend-2n.lua',
      'extend-permits-3n.lua',
      'inspect-3.lua',
      'list-0.lua',
      'rate-1.lua',
      'release-5.lua',
      'save-2.lua',
    ]);
    for (const file of files) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      const header = source.slice(0, source.search(/^[^-\n]/m));
      const body = source.slice(header.length);
      expect(header, file).toMatch(/Returns/);
      // Every KEYS[i] and ARGV[i] the body uses by number is documented in the header.
      for (const used of new Set(body.match(/(KEYS|ARGV)\[\d+\]/g) ?? []))
        expect(header, file).toContain(used);
      if (file.endsWith('-2n.lua')) expect(header, file).toMatch(/KEYS\[2i-1\][\s\S]*KEYS\[2i\]/);
      if (file.endsWith('-3n.lua'))
        expect(header, file).toMatch(/KEYS\[3i-2\][\s\S]*KEYS\[3i-1\][\s\S]*KEYS\[3i\]/);
      // The number in the name is the KEYS count: every key the script reads by number is declared.
      const count = /-(\d+)\.lua$/.exec(file)?.[1];
      if (count !== undefined) expect(header, file).toContain(count === '0' ? 'ARGV[1]' : `KEYS[${count}]`);
    }
  });

  it('survive SCRIPT FLUSH mid-run: EVALSHA falls back to EVAL and the script is cached again', async () => {
    const a = redisBackend({ url: server.url });
    const b = redisBackend({ url: server.url });
    const r = raw(server.url);
    const key = unique('flush');
    let counter = 0;
    let inside = 0;
    let overlaps = 0;
    let running = true;
    const flusher = (async () => {
      let flushes = 0;
      while (running) {
        await r.script('FLUSH');
        flushes++;
        await delay(5);
      }
      return flushes;
    })();
    await Promise.all(
      [a, b].map(async (backend) => {
        for (let i = 0; i < 100; i++) {
          const l = await lease(backend, key, { ttl: 5000, wait: 10_000 });
          inside++;
          if (inside > 1) overlaps++;
          await backend.inspect(key);
          await backend.list('flush:');
          await backend.extendMany([{ key, owner: l.token, ttl: 5000 }]);
          counter++;
          inside--;
          await l.release();
        }
      }),
    );
    running = false;
    expect(await flusher).toBeGreaterThan(5);
    expect(overlaps).toBe(0);
    expect(counter).toBe(200);
    // After the last flush, one more call caches the script again.
    await r.script('FLUSH');
    const owner = newToken();
    await a.acquire({ key, owner, ttl: 1000 });
    const { createHash } = await import('node:crypto');
    const source = readFileSync(new URL('../scripts/acquire-5.lua', import.meta.url), 'utf8');
    const sha = createHash('sha1').update(source).digest('hex');
    expect(await r.script('EXISTS', sha)).toEqual([1]);
    await a.release({ key, owner });
    await Promise.all([a.close(), b.close()]);
  });
});

describe('heartbeat', () => {
  it('extends many leases of one backend in one script call per tick', async () => {
    const b = redisBackend({ url: server.url });
    const r = raw(server.url);
    const leases = await Promise.all(
      Array.from({ length: 200 }, (_, i) => lease(b, unique(`hb-${i}`), { ttl: 600 })),
    );
    const calls = async () => {
      const stats = (await r.info('commandstats')).match(/cmdstat_evalsha:calls=(\d+)/);
      return Number(stats?.[1] ?? 0);
    };
    const before = await calls();
    await delay(1200); // two TTLs: every lease was extended several times
    const used = (await calls()) - before;
    expect(leases.every((l) => l.held)).toBe(true);
    // One call per heartbeat tick (a tick every sixth to third of the TTL), not one per lease.
    expect(used).toBeGreaterThan(2);
    expect(used).toBeLessThan(40);
    await Promise.all(leases.map((l) => l.release()));
    await b.close();
  });
});

describe('keys', () => {
  it('keep any user key intact, braces and percent signs included, each in one hash slot', async () => {
    const b = redisBackend({ url: server.url, prefix: 'enc:' });
    const r = raw(server.url);
    const tag = unique('k');
    const keys = [`}${tag}`, `{${tag}}`, `${tag}%7D`, `${tag}}x`, `${tag}{`, `${tag}%`, `${tag} ünï 🔒`];
    const owners = keys.map(() => newToken());
    for (const [i, key] of keys.entries()) {
      expect((await b.acquire({ key, owner: owners[i]!, ttl: 5000 })).granted).toBe(true);
    }
    // Distinct keys are distinct locks: none refused another.
    const held = await b.list('');
    for (const [i, key] of keys.entries()) {
      expect(held.find((h) => h.key === key)?.owner).toBe(owners[i]);
      const lock = `enc:{${key.replace(/%/g, '%25').replace(/\{/g, '%7B').replace(/\}/g, '%7D')}}`;
      expect(await r.exists(lock, `${lock}:fence`)).toBe(2);
    }
    await Promise.all(keys.map((key, i) => b.release({ key, owner: owners[i]! })));
    await b.close();
  });

  it('list(prefix) matches the prefix literally, not as a glob, and skips other prefixes', async () => {
    const b = redisBackend({ url: server.url, prefix: 'glob:' });
    const other = redisBackend({ url: server.url, prefix: 'other:' });
    const tag = unique('g');
    const owner = newToken();
    for (const key of [`${tag}*a`, `${tag}?b`, `${tag}[c]`, `${tag}xa`])
      await b.acquire({ key, owner, ttl: 5000 });
    await other.acquire({ key: `${tag}*a`, owner, ttl: 5000 });
    expect((await b.list(`${tag}*`)).map((h) => h.key)).toEqual([`${tag}*a`]);
    expect((await b.list(`${tag}[`)).map((h) => h.key)).toEqual([`${tag}[c]`]);
    expect((await b.list(tag)).length).toBe(4);
    const entry = (await b.list(`${tag}?`))[0]!;
    expect(entry).toMatchObject({
      key: `${tag}?b`,
      owner,
      fence: expect.any(Number),
      since: expect.any(Number),
    });
    expect(entry.ttlRemaining).toBeGreaterThan(0);
    await Promise.all([b.close(), other.close()]);
  });
});
