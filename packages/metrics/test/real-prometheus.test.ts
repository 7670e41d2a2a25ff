import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Prometheus, prometheusBinary, startPrometheus } from './prometheus-server.js';

const bin = prometheusBinary();
const app = fileURLToPath(new URL('./fixtures/sample-app.mjs', import.meta.url));
const dashboard = new URL('../../../docs/public/oncelock-grafana-dashboard.json', import.meta.url);

/** Starts the sample app; resolves with its process and the port it serves /metrics on. */
function startApp(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [app], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`sample app exited with ${code}`)));
    child.stdout?.once('data', (d: Buffer) => resolve({ child, port: JSON.parse(d.toString()).port }));
  });
}

// Debian's package (`apt-get install prometheus`); CI installs it. Without it there is nothing to scrape with.
describe.skipIf(!bin)(
  'a real Prometheus scraping a sample app (skipped: no prometheus binary on the PATH)',
  () => {
    let prometheus: Prometheus;
    let appProcess: ChildProcess;

    beforeAll(async () => {
      const started = await startApp();
      appProcess = started.child;
      prometheus = await startPrometheus(bin as string, [`127.0.0.1:${started.port}`]);
    }, 60_000);

    afterAll(async () => {
      appProcess?.kill();
      await prometheus?.stop();
    });

    /** The value of a PromQL expression once Prometheus has scraped it. */
    async function scraped(promql: string): Promise<number> {
      const deadline = performance.now() + 30_000;
      for (;;) {
        const [first] = await prometheus.query(promql);
        if (first) return Number(first.value[1]);
        if (performance.now() > deadline) throw new Error(`no sample for ${promql}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    it('has the numbers the app made, by lock name', async () => {
      expect(
        await scraped('sum(oncelock_acquire_duration_seconds_count{lock="jobs",outcome="acquired"})'),
      ).toBe(5);
      expect(await scraped('sum(oncelock_hold_duration_seconds_count{lock="jobs"})')).toBe(5);
      expect(
        await scraped('sum(oncelock_acquire_duration_seconds_count{lock="busy",outcome="acquired"})'),
      ).toBe(2);
      expect(await scraped('sum(oncelock_acquire_duration_seconds_count{lock="busy",outcome="busy"})')).toBe(
        1,
      );
      // The waiter waited about 50 ms, the time the holder kept the lock after it started waiting.
      const waited = await scraped(
        'histogram_quantile(1, sum by (le) (oncelock_acquire_duration_seconds_bucket{lock="busy",outcome="acquired"}))',
      );
      expect(waited).toBeGreaterThanOrEqual(0.025);
      expect(await scraped('sum(oncelock_leases_lost_total{lock="lost",reason="expired"})')).toBe(1);
      expect(await scraped('sum(oncelock_leases_held{lock="held"})')).toBe(1);
      expect(await scraped('sum(oncelock_waiters{lock="held"})')).toBe(1);
      // The kept lease and the loop's, which is a lease too.
      expect(await scraped('sum(oncelock_leases_held)')).toBe(2);
      expect(await scraped('sum(oncelock_rate_decisions_total{lock="sends",outcome="allowed"})')).toBe(1);
      expect(await scraped('sum(oncelock_rate_decisions_total{lock="sends",outcome="refused"})')).toBe(2);
      // An outcome not seen yet is a series at 0, so increase() counts its first event.
      expect(await scraped('sum(oncelock_rate_decisions_total{lock="sends",outcome="reserved"})')).toBe(0);
      expect(await scraped('sum(oncelock_rate_delay_seconds_bucket{lock="sends",le="0"})')).toBe(1);
      expect(await scraped('oncelock_loop_leading{lock="sweep"}')).toBe(1);
      expect(await scraped('sum(oncelock_loop_terms_total{lock="sweep"})')).toBe(1);
      expect(await scraped('sum(oncelock_loop_passes_total{lock="sweep",outcome="more"})')).toBe(2);
      expect(await scraped('sum(oncelock_loop_passes_total{lock="sweep",outcome="idle"})')).toBe(1);
      expect(await scraped('sum(oncelock_loop_pass_duration_seconds_count{lock="sweep"})')).toBe(3);
      // Labels carry lock names only: no series names a full key.
      expect(await prometheus.query('count({__name__=~"oncelock_.*",lock=~".*:.*"})')).toEqual([]);
    }, 60_000);

    it("accepts every PromQL expression of the docs' Grafana dashboard", async () => {
      const { panels } = JSON.parse(readFileSync(dashboard, 'utf8')) as {
        panels: Array<{ targets: Array<{ expr: string }> }>;
      };
      const exprs = panels.flatMap((p) => p.targets.map((t) => t.expr));
      // query() throws on an expression Prometheus refuses.
      for (const expr of exprs) await prometheus.query(expr);
      // The loop panel has its leader from the sample app.
      expect(await prometheus.query('sum by (lock) (oncelock_loop_leading)')).toContainEqual(
        expect.objectContaining({ metric: { lock: 'sweep' } }),
      );
    });
  },
);
