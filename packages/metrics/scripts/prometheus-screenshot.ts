// Makes docs/public/pictures/prometheus-graph.png: the sample app scraped by a real Prometheus,
// its graph page shown in headless Chromium. Run: pnpm --filter @oncelock/metrics exec tsx scripts/prometheus-screenshot.ts
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { prometheusBinary, startPrometheus } from '../test/prometheus-server.js';

const app = spawn(
  process.execPath,
  [fileURLToPath(new URL('../test/fixtures/sample-app.mjs', import.meta.url))],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const port = await new Promise<number>((resolve) =>
  app.stdout?.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()).port)),
);
const bin = prometheusBinary();
if (!bin) throw new Error('prometheus is not on the PATH (apt-get install prometheus)');
const prometheus = await startPrometheus(bin, [`127.0.0.1:${port}`]);
try {
  // Let a few scrapes land, so the graph has a line.
  await new Promise((r) => setTimeout(r, 15_000));
  const expr = 'sum by (lock, outcome) (oncelock_acquire_duration_seconds_count)';
  const url = `${prometheus.url}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0&g0.range_input=1m`;
  const out = fileURLToPath(new URL('../../../docs/public/pictures/prometheus-graph.png', import.meta.url));
  const r = spawnSync(
    'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--hide-scrollbars',
      '--window-size=1400,900',
      '--virtual-time-budget=8000',
      `--screenshot=${out}`,
      url,
    ],
    { stdio: 'inherit', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`chromium exited with ${r.status}`);
  console.log(`wrote ${out}`);
} finally {
  app.kill();
  await prometheus.stop();
}
