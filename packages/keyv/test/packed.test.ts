import { fileURLToPath } from 'node:url';
import { redisUrl } from '@oncelock/testkit/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, type PackedProject } from '../../../scripts/packed.mjs';

// What users install: @oncelock/keyv and @oncelock/core packed as for publishing, installed with
// npm into an empty project beside keyv and @keyv/redis, and run from a plain Node process.
const pkg = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));

// The README's runOnceOrCancel, with a second call while the first still runs; both majors run it.
const README_RUN = `let open; const gate = new Promise((r) => (open = r));
const warm = runOnceOrCancel(async (region) => { await gate; return region + ' warmed'; }, {
  backend, key: (region) => 'warm-cache:' + region, ttl: 30000,
});
const first = warm('eu');
await new Promise((r) => setTimeout(r, 100));
const second = await warm('eu');
open();
out.first = await first;
out.second = second.status;
`;

describe('packed @oncelock/keyv with keyv@5', () => {
  let project: PackedProject;
  beforeAll(async () => {
    project = await installPacked([pkg('core'), pkg('keyv')], ['keyv@5', '@keyv/redis@^5.1.6']);
  }, 180_000);
  afterAll(() => project?.remove());

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
${README_RUN}try { await lease(backend, 'ledger', { ttl: 10000, require: { exclusion: 'strict' } }); }
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

// keyv 6 declares engines >= 22.19 and is what `npm install keyv` picks there. No @keyv/* adapter
// accepts keyv 6 yet (their peer range is ^5), so this runs on keyv's own in-memory store.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const keyv6Runs = major > 22 || (major === 22 && minor >= 19);
const keyv6Title = keyv6Runs
  ? 'packed @oncelock/keyv with keyv@6'
  : `packed @oncelock/keyv with keyv@6: skipped, keyv 6 needs Node >= 22.19 and this is ${process.versions.node}`;

describe.skipIf(!keyv6Runs)(keyv6Title, () => {
  let project: PackedProject;
  beforeAll(async () => {
    project = await installPacked([pkg('core'), pkg('keyv')], ['keyv@6']);
  }, 180_000);
  afterAll(() => project?.remove());

  it('runs the README example, and refuses a Keyv that would hide its store errors', async () => {
    const script = await project.write('keyv6.mjs', KEYV6_SCRIPT);
    expect(JSON.parse(await project.node(script))).toEqual({
      listenedRefused: true,
      first: { status: 'ran', value: 'eu warmed' },
      second: 'cancelled',
      free: true,
      storeErrorThrown: true,
    });
  });
});

const KEYV6_SCRIPT = `
import Keyv from 'keyv';
import { keyvBackend, runOnceOrCancel, BackendUnavailableError, InvalidArgumentError } from '@oncelock/keyv';
const out = {};
const listened = new Keyv();
listened.on('error', () => {});
try { keyvBackend({ store: listened }); } catch (e) { out.listenedRefused = e instanceof InvalidArgumentError; }
const backend = keyvBackend({ store: new Keyv() });
${README_RUN}out.free = (await backend.inspect('warm-cache:eu')) === null;
await backend.close();
const fail = async () => { throw new Error('store down'); };
const broken = keyvBackend({ store: new Keyv({ store: { get: fail, set: fail, delete: fail, clear: fail } }) });
try { await broken.inspect('k'); } catch (e) { out.storeErrorThrown = e instanceof BackendUnavailableError; }
console.log(JSON.stringify(out));
`;
