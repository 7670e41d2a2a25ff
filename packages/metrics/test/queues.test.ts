import { randomUUID } from 'node:crypto';
import { queueMetrics } from '@oncelock/metrics/bullmq';
import { startTcpProxy } from '@oncelock/testkit/faults';
import { redisConnection } from '@oncelock/testkit/servers';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

describe('queueMetrics', () => {
  it('reports jobs by state and the oldest waiting age on scrape; a stuck queue is left out within the timeout', async () => {
    const connection = redisConnection();
    const proxy = await startTcpProxy({ targetPort: connection.port });
    const ok = new Queue(`metrics-ok-${randomUUID()}`, { connection });
    const stuck = new Queue(`metrics-stuck-${randomUUID()}`, {
      connection: { host: '127.0.0.1', port: proxy.port },
    });
    const registry = new Registry();
    const metrics = queueMetrics({ registry, queues: [ok, stuck], timeout: 300 });
    try {
      await ok.add('a', {}, { timestamp: Date.now() - 30_000 });
      await ok.add('b', {});
      await ok.add('later', {}, { delay: 60_000 });
      await stuck.waitUntilReady();
      let text = await registry.metrics();
      expect(text).toContain(`oncelock_queue_jobs{queue="${ok.name}",state="waiting"} 2`);
      expect(text).toContain(`oncelock_queue_jobs{queue="${ok.name}",state="delayed"} 1`);
      expect(text).toContain(`oncelock_queue_jobs{queue="${stuck.name}",state="waiting"} 0`);
      const age = Number(
        text.match(new RegExp(`oncelock_queue_oldest_waiting_seconds\\{queue="${ok.name}"\\} (\\S+)`))?.[1],
      );
      expect(age).toBeGreaterThanOrEqual(29);
      expect(age).toBeLessThan(40);

      proxy.blackhole(true);
      const started = performance.now();
      text = await registry.metrics();
      const took = performance.now() - started;
      expect(took).toBeLessThan(1000); // the timeout, not the stuck connection, bounds the scrape
      expect(text).toContain(`oncelock_queue_jobs{queue="${ok.name}",state="waiting"} 2`);
      expect(text).not.toContain(`queue="${stuck.name}",state=`);
      // One read per queue per scrape, shared by both gauges: one error, not two.
      expect(text).toContain(`oncelock_queue_collection_errors_total{queue="${stuck.name}"} 1`);
    } finally {
      metrics.stop();
      proxy.blackhole(false);
      await ok.obliterate({ force: true });
      await Promise.all([ok.close(), stuck.close()]);
      await proxy.close();
    }
  });
});
