import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { lease, redisBackend } from '@oncelock/redis';
import { startTcpProxy } from '@oncelock/testkit/faults';
import { redisConnection, redisUrl } from '@oncelock/testkit/servers';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './run.js';

const backend = redisBackend({ url: redisUrl });
afterAll(() => backend.close());

interface Tick {
  holders: Array<{ key: string; owner: string }>;
  error?: string;
}

describe('oncelock watch --json off a terminal', () => {
  it('prints a line per refresh, reports a store that stops answering, recovers, and exits 0 on SIGTERM', async () => {
    const ns = `cli-${randomUUID().slice(0, 8)}:`;
    await using l = await lease(backend, `${ns}sync`, { ttl: 30_000 });
    const proxy = await startTcpProxy({ targetPort: redisConnection().port });
    const child = spawn(process.execPath, [
      BIN,
      'watch',
      proxy.url('redis'),
      '--prefix',
      ns,
      '--interval',
      '150',
      '--timeout',
      '400',
      '--json',
    ]);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async (what: string, test: (t: Tick) => boolean): Promise<Tick> => {
      const deadline = performance.now() + 10_000;
      while (performance.now() < deadline) {
        const { value, done } = await lines.next();
        if (done) break;
        const tick = JSON.parse(value) as Tick;
        if (test(tick)) return tick;
      }
      return expect.fail(`no line with ${what}`);
    };
    try {
      const first = await next('the lease', (t) => t.holders.length === 1);
      expect(first.holders[0]).toMatchObject({ key: `${ns}sync`, owner: l.token });

      proxy.blackhole(true);
      const failing = await next('an error', (t) => t.error !== undefined);
      expect(failing.error).toMatch(/got no answer within|did not answer|timed out/i);
      expect(failing.holders).toHaveLength(1); // the last good read stays on screen

      proxy.blackhole(false);
      await next('a clean read again', (t) => t.error === undefined);
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await proxy.close();
    }
  });
});
