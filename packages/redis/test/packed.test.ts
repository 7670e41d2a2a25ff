import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkHistory, readHistory } from '@oncelock/testkit/history';
import { redisUrl } from '@oncelock/testkit/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, type PackedProject } from '../../../scripts/packed.mjs';
import { unique } from './helpers.js';

// What users install: @oncelock/redis and @oncelock/core packed as for publishing, installed
// with npm into an empty project beside ioredis, and run from plain Node processes.
const pkg = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const url = redisUrl;

// Each major in the peer range, as `npm install ioredis@<major>` picks it.
describe.each(['ioredis@5', 'ioredis@6'])('packed @oncelock/redis with %s', (ioredis) => {
  let project: PackedProject;
  beforeAll(async () => {
    project = await installPacked([pkg('core'), pkg('redis')], [ioredis]);
  }, 180_000);
  afterAll(() => project?.remove());

  it('ships its Lua scripts to read, and runs without them: dist carries their text', async () => {
    const installed = join(project.dir, 'node_modules/@oncelock/redis');
    // The source's scripts, in the order lua.generated.ts lists them (scripts.test.ts names them).
    const files = readdirSync(new URL('../scripts/', import.meta.url))
      .filter((f) => f.endsWith('.lua'))
      .sort();
    for (const file of files) expect(existsSync(join(installed, 'scripts', file)), file).toBe(true);
    // Every test below runs without them.
    rmSync(join(installed, 'scripts'), { recursive: true });
    const script = await project.write(
      'lua.mjs',
      `
import { keySpace, scripts } from '@oncelock/redis/lua';
console.log(JSON.stringify({ files: Object.values(scripts).map((s) => s.file), lock: keySpace('p:').lock('}x') }));
`,
    );
    expect(JSON.parse(await project.node(script, []))).toEqual({ files, lock: 'p:{%7Dx}' });
  });

  it('runs the README example: runOnceOrCancel and a lease, the whole API from one import', async () => {
    const script = await project.write(
      'readme.mjs',
      `
import { lease, redisBackend, runOnceOrCancel, LockNotAcquiredError } from '@oncelock/redis';
const [url, prefix] = process.argv.slice(2);
const backend = redisBackend({ url });
let open; const gate = new Promise((r) => (open = r));
const scan = runOnceOrCancel(async (shard) => { await gate; return shard * 2; }, {
  backend, key: (shard) => prefix + ':scan:' + shard, ttl: 30000,
});
const first = scan(3);
await new Promise((r) => setTimeout(r, 50));
const second = await scan(3);
open();
const out = { first: await first, second };
const l = await lease(backend, prefix + ':audit-backfill', { ttl: 10000, wait: 5000 });
try {
  out.fence = Number.isSafeInteger(l.fence);
  try { await lease(backend, prefix + ':audit-backfill', { ttl: 1000 }); } catch (e) { out.refused = e instanceof LockNotAcquiredError; }
} finally {
  await l[Symbol.asyncDispose]();
}
out.free = (await backend.inspect(prefix + ':audit-backfill')) === null;
await backend.close();
console.log(JSON.stringify(out));
`,
    );
    const out = JSON.parse(await project.node(script, [url, unique('readme')]));
    expect(out).toEqual({
      first: { status: 'ran', value: 6 },
      second: {
        status: 'cancelled',
        reason: 'locked',
        holder: expect.objectContaining({ owner: expect.any(String) }),
      },
      fence: true,
      refused: true,
      free: true,
    });
  });

  it('four processes at once: no overlapping critical sections, no lost update, rising fences', async () => {
    const worker = await project.write(
      'worker.mjs',
      `
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { lease, redisBackend } from '@oncelock/redis';
const [url, key, rounds, history, counter, name] = process.argv.slice(2);
const backend = redisBackend({ url });
// Date.now(), not timeOrigin + performance.now(): the latter can be milliseconds apart between
// processes, which would show two back-to-back holds as overlapping.
const now = () => Date.now();
for (let i = 0; i < Number(rounds); i++) {
  const l = await lease(backend, key, { ttl: 5000, wait: 60000 });
  const start = now();
  // An unprotected read-modify-write on a file: any overlap loses an update.
  const n = Number(readFileSync(counter, 'utf8'));
  await new Promise((r) => setTimeout(r, 1));
  writeFileSync(counter, String(n + 1));
  const end = now();
  appendFileSync(history, JSON.stringify({ type: 'hold', worker: name, key, fence: l.fence, start, end }) + '\\n');
  await l.release();
}
await backend.close();
console.log('done');
`,
    );
    const history = join(project.dir, 'history.jsonl');
    const counter = await project.write('counter.txt', '0');
    await project.write('history.jsonl', '');
    const key = unique('four');
    const rounds = 25;
    const outputs = await Promise.all(
      [1, 2, 3, 4].map((i) => project.node(worker, [url, key, String(rounds), history, counter, `w${i}`])),
    );
    expect(outputs.map((o) => o.trim())).toEqual(['done', 'done', 'done', 'done']);
    const events = readHistory(history);
    const report = checkHistory(events, { fenced: true });
    expect(report.stats.holds).toBe(4 * rounds);
    expect(report.stats.workers).toBe(4);
    expect(report.holdOverlaps).toEqual([]);
    const { readFileSync } = await import('node:fs');
    expect(Number(readFileSync(counter, 'utf8'))).toBe(4 * rounds);
    const byStart = [...events].sort((a, b) => a.start - b.start);
    for (let i = 1; i < byStart.length; i++)
      expect(byStart[i]!.fence!).toBeGreaterThan(byStart[i - 1]!.fence!);
  });
});
