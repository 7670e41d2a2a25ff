import { fileURLToPath } from 'node:url';
import { redisUrl } from '@oncelock/testkit/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, type PackedProject } from '../../../scripts/packed.mjs';

// What users install: @oncelock/keyv and @oncelock/core packed as for publishing, installed with
// npm into an empty project beside keyv and @keyv/redis, and run from a plain Node process.
const pkg = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
let project: PackedProject;

beforeAll(async () => {
  project = await installPacked([pkg('core'), pkg('keyv')], ['keyv@^5.6.0', '@keyv/redis@^5.1.6']);
}, 180_000);
afterAll(() => project?.remove());

describe('packed @oncelock/keyv', () => {
  it('runs the README example and refuses what it cannot honour, from one import', async () => {
    const script = await project.write(
      'readme.mjs',
      `
import { createKeyv } from '@keyv/redis';
import { keyvBackend, lease, runOnceOrCancel, CapabilityUnsupportedError, InvalidArgumentError } from '@oncelock/keyv';
const [url, namespace] = process.argv.slice(2);
const out = {};
try { keyvBackend({ store: createKeyv(url, { namespace }) }); } catch (e) { out.swallowingRefused = e instanceof InvalidArgumentError; }
const store = createKeyv(url, { namespace, throwOnErrors: true });
const backend = keyvBackend({ store });
let open; const gate = new Promise((r) => (open = r));
const warm = runOnceOrCancel(async (region) => { await gate; return region + ' warmed'; }, {
  backend, key: (region) => 'warm-cache:' + region, ttl: 30000,
});
const first = warm('eu');
await new Promise((r) => setTimeout(r, 100));
const second = await warm('eu');
open();
out.first = await first;
out.second = second.status;
try { await lease(backend, 'ledger', { ttl: 10000, require: { exclusion: 'strict' } }); }
catch (e) { out.strictRefused = e instanceof CapabilityUnsupportedError && /redisBackend/.test(e.message); }
out.free = (await backend.inspect('warm-cache:eu')) === null;
await backend.close();
await store.clear();
await store.disconnect();
console.log(JSON.stringify(out));
`,
    );
    const out = JSON.parse(await project.node(script, [redisUrl, `oncelock-keyv-packed-${process.pid}`]));
    expect(out).toEqual({
      swallowingRefused: true,
      first: { status: 'ran', value: 'eu warmed' },
      second: 'cancelled',
      strictRefused: true,
      free: true,
    });
  });
});
