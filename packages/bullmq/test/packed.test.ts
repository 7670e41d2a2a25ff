import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, type PackedProject } from '../../../scripts/packed.mjs';
import { connection, queueName } from './support.js';

const pkg = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));

// bullmq is a peer dependency: the project brings its own copy, as a user's would. bullmq 5 comes
// with its own ioredis 5; bullmq 6 uses the project's ioredis, of either major.
// bullmq 5.0.0 is the floor of the peer range.
describe.each(['bullmq@5.0.0', 'bullmq@5', 'bullmq@6 ioredis@5', 'bullmq@6 ioredis@6'])('with %s', (spec) => {
  let project: PackedProject;

  beforeAll(async () => {
    project = await installPacked([pkg('core'), pkg('bullmq')], spec.split(' '));
  }, 180_000);
  afterAll(() => project?.remove());

  // The README's example, run from the published tarballs in an empty npm project.
  it('a packed @oncelock/bullmq guards add() and the processor with the user’s BullMQ', async () => {
    const name = queueName('packed');
    const script = await project.write(
      'check.mjs',
      `
import { memoryBackend, onceProcessor, onceQueue } from '@oncelock/bullmq';
import { Queue, Worker } from 'bullmq';
const connection = ${JSON.stringify(connection)};
const backend = memoryBackend();
const policy = { backend, mode: 'untilDone', key: (_name, data) => 'scan:' + data.shard };
const queue = new Queue(process.argv[2], { connection });
const scans = onceQueue(queue, policy);
const first = await scans.add('scan', { shard: 3 });
const second = await scans.add('scan', { shard: 3 });
const done = new Promise((resolve) => {
  const worker = new Worker(process.argv[2], onceProcessor(async (job, _token, signal, claim) => ({ fence: claim.fence, aborted: signal.aborted }), policy), { connection });
  worker.on('completed', async (job, value) => { await worker.close(); resolve(value); });
});
const out = { first: first.status, second: second.status, names: second.existingJobId === first.job.id, arity: onceProcessor(async () => 1, policy).length };
out.value = await done;
out.third = (await scans.add('scan', { shard: 3 })).status;
await queue.close();
await backend.close();
console.log(JSON.stringify(out));
`,
    );
    try {
      const out = JSON.parse(await project.node(script, [name]));
      expect(out).toEqual({
        first: 'added',
        second: 'cancelled',
        names: true,
        arity: 3,
        value: { fence: expect.any(Number), aborted: false },
        third: 'added',
      });
    } finally {
      const queue = new Queue(name, { connection });
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
