import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { installPacked, type PackedProject } from '../../../scripts/packed.mjs';

const pkg = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
let project: PackedProject;

beforeAll(async () => {
  project = await installPacked([pkg('core'), pkg('memory')]);
}, 180_000);
afterAll(() => project?.remove());

// What the README promises, run from the published tarballs in an empty npm project.
it('a packed @oncelock/core and @oncelock/memory run runOnceOrCancel and lease as documented', async () => {
  const script = await project.write(
    'check.mjs',
    `
import { lease, memoryBackend, runOnceOrCancel, LockNotAcquiredError } from '@oncelock/core';
import * as memory from '@oncelock/memory';
const backend = memoryBackend();
let open; const gate = new Promise((r) => (open = r));
const scan = runOnceOrCancel(async (shard) => { await gate; return shard * 2; }, { backend, key: (s) => 'scan:' + s, ttl: 30000 });
const first = scan(3);
const second = await scan(3);
open();
const out = { first: await first, second: second.status, reason: second.reason };
// Plain JavaScript on Node 20 has no \`await using\`: call the disposer it would call.
const l = await lease(backend, 'audit-backfill', { ttl: 10000, wait: 5000 });
try {
  out.fence = l.fence; out.token = l.token.length;
  try { await lease(backend, 'audit-backfill', { ttl: 1000 }); } catch (e) { out.refused = e instanceof LockNotAcquiredError; }
} finally {
  await l[Symbol.asyncDispose]();
}
out.freeAfterDispose = (await backend.inspect('audit-backfill')) === null;
out.memoryReexports = typeof memory.lease === 'function' && typeof memory.memoryBackend === 'function';
console.log(JSON.stringify(out));
`,
  );
  const out = JSON.parse(await project.node(script));
  expect(out).toEqual({
    first: { status: 'ran', value: 6 },
    second: 'cancelled',
    reason: 'locked',
    fence: expect.any(Number),
    token: 32,
    refused: true,
    freeAfterDispose: true,
    memoryReexports: true,
  });
});
