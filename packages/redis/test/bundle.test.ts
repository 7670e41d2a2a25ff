import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { keySpace } from '@oncelock/redis/lua';
import { redisUrl } from '@oncelock/testkit/servers';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

// An app bundled into one file, as esbuild, webpack or a serverless packager makes it, run from a
// folder that holds that file and nothing else: no node_modules, no scripts/ beside the package.
// It works only if the Lua travels inside the built JavaScript.
const app = `
import { lease, redisBackend } from '@oncelock/redis';

async function main() {
  const [url, key] = process.argv.slice(2);
  const backend = redisBackend({ url });
  const l = await lease(backend, key, { ttl: 10000 });
  const held = (await backend.inspect(key))?.owner === l.token;
  const released = await l.release();
  const free = (await backend.inspect(key)) === null;
  await backend.close();
  console.log(JSON.stringify({ fence: l.fence, held, released, free }));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

const dir = mkdtempSync(join(tmpdir(), 'oncelock-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an app bundled with esbuild into one file', () => {
  it('takes and releases a lease on Redis with nothing beside it', async () => {
    const outfile = join(dir, 'app.cjs');
    // ioredis is bundled too, as a serverless bundle would have it. CommonJS output: the usual
    // format of such bundles, and it proves no import.meta.url lookup is left in the package.
    await build({
      stdin: { contents: app, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    });
    expect(readdirSync(dir)).toEqual(['app.cjs']);

    const key = unique('bundle');
    const { stdout } = await promisify(execFile)(process.execPath, [outfile, redisUrl, key], {
      cwd: dir,
      env: { ...process.env, NODE_PATH: '' },
      timeout: 30_000,
    });
    const out = JSON.parse(stdout) as { fence: number; held: boolean; released: boolean; free: boolean };
    expect(out).toEqual({ fence: expect.any(Number), held: true, released: true, free: true });
    // The lease was the real Redis's: its fence record is there, holding the fence the app saw.
    const keys = keySpace('oncelock:');
    expect(await raw(redisUrl).get(keys.record(key))).toBe(String(out.fence));
    expect(await raw(redisUrl).exists(keys.lock(key))).toBe(0);
  });
});
