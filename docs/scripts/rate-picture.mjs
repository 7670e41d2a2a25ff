// Draws docs/public/pictures/rate-over-time.svg: starts of one key over time under one rate
// limit for the whole fleet (oncelock's GCRA in the store) beside a per-worker limiter (each
// worker limited to the rate on its own, as Celery's rate_limit is). Measured: it draws the
// reliability lab's picture run (reliability/results/rate/picture-redis.json, written by
// `pnpm --filter @oncelock/reliability soak -- --rate redis`), in which 4 processes asked real
// Redis for starts, and each process also ran a limiter of its own on the same requests.
// Usage: node docs/scripts/rate-picture.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const run = JSON.parse(
  readFileSync(new URL('../../reliability/results/rate/picture-redis.json', import.meta.url), 'utf8'),
);
const LIMIT = run.options.limit;
const PER = run.options.per;
const WORKERS = run.options.processes;
const RUN_MS = run.options.phases.at(-1).until;

// Times from the run's start: each request, and the starts each limiter granted (the fleet's at
// their slots on Redis's clock, the per-worker ones at their slots on the workers' clock; one
// machine, one clock). A start reserved past the end of the run is not drawn.
/** @type {number[]} */
const asked = run.times.asked;
const inRun = (/** @type {number[]} */ s) => s.filter((t) => t < RUN_MS);
const fleet = inRun(run.times.fleet);
const perWorker = inRun(run.times.perWorker);

/** Most starts in any window of PER (half open): the window that begins at a start holds the most. */
const most = (/** @type {number[]} */ s) =>
  Math.max(...s.map((from) => s.filter((t) => t >= from && t < from + PER).length));
/** Starts in the window of PER that ends at `t`. */
const inWindow = (/** @type {number[]} */ s, /** @type {number} */ t) =>
  s.filter((x) => x > t - PER && x <= t).length;

const W = 640;
const LEFT = 96;
const RIGHT = 16;
const TOP = 72;
const ROW = 24;
const CHART = 120;
const rows = [
  { label: 'asked', times: asked, cls: 'asked' },
  { label: 'oncelock', times: fleet, cls: 'fleet' },
  { label: 'per worker', times: perWorker, cls: 'worker' },
];
const x = (/** @type {number} */ t) => LEFT + (t / RUN_MS) * (W - LEFT - RIGHT);
const chartTop = TOP + rows.length * ROW + 28;
const H = chartTop + CHART + 36;
const peak = Math.max(most(perWorker), LIMIT);
const yOf = (/** @type {number} */ n) => chartTop + CHART - (n / peak) * (CHART - 10);
const out = [];
for (const [i, row] of rows.entries()) {
  const y = TOP + i * ROW;
  out.push(`<text x="${LEFT - 8}" y="${y + ROW / 2 + 4}" text-anchor="end">${row.label}</text>`);
  for (const t of row.times)
    out.push(
      `<line class="${row.cls}" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${y + 5}" y2="${y + ROW - 5}"/>`,
    );
}
// Starts in the last `per` at each moment, sampled every 10 ms: a line for each limiter.
for (const [s, cls] of /** @type {const} */ ([
  [perWorker, 'worker'],
  [fleet, 'fleet'],
])) {
  const points = [];
  for (let t = 0; t <= RUN_MS; t += 10) points.push(`${x(t).toFixed(1)},${yOf(inWindow(s, t)).toFixed(1)}`);
  out.push(`<polyline class="${cls}-line" points="${points.join(' ')}"/>`);
}
out.push(`<line class="limit" x1="${LEFT}" x2="${W - RIGHT}" y1="${yOf(LIMIT)}" y2="${yOf(LIMIT)}"/>`);
out.push(`<text class="muted" x="${LEFT - 8}" y="${yOf(LIMIT) + 4}" text-anchor="end">limit ${LIMIT}</text>`);
out.push(`<text class="muted" x="${LEFT - 8}" y="${yOf(peak) + 4}" text-anchor="end">${peak}</text>`);
out.push(`<text class="muted" x="${LEFT - 8}" y="${yOf(0) + 4}" text-anchor="end">0</text>`);
out.push(`<text class="muted" x="10" y="${chartTop - 8}">Starts in the last second, at each moment</text>`);
// Each line named where it runs flat, in its colour.
out.push(
  `<text class="worker-label" x="${x(2500)}" y="${yOf(most(perWorker)) - 8}" text-anchor="middle">${WORKERS} per-worker limiters: up to ${most(perWorker)}</text>`,
  `<text class="fleet-label" x="${x(2500)}" y="${yOf(LIMIT / 2) + 4}" text-anchor="middle">oncelock: at most ${most(fleet)}</text>`,
);
for (let i = 0; i <= 4; i++) {
  const t = (RUN_MS * i) / 4;
  // The first and last labels sit inside the picture, not centred past its edges.
  const anchor = i === 0 ? 'start' : i === 4 ? 'end' : 'middle';
  out.push(
    `<text class="muted" x="${x(t).toFixed(1)}" y="${H - 12}" text-anchor="${anchor}">${t / 1000} s</text>`,
  );
}
const summary = `oncelock: at most ${most(fleet)} starts in any second; per-worker limiters: up to ${most(perWorker)}`;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-labelledby="t">
<title id="t">Four worker processes ask Redis for starts of one key, limit ${LIMIT} per second, calmly and then at six times the rate (measured). ${summary}.</title>
<style>
text{fill:#1f2328}.muted{fill:#656d76}.fleet-label{fill:#2f6fde}.worker-label{fill:#6e7781}.asked{stroke:#afb8c1}.fleet{stroke:#2f6fde}.worker{stroke:#9aa7bd}.limit{stroke:#cb2431;stroke-dasharray:4 3}polyline{fill:none;stroke-width:2}.fleet-line{stroke:#2f6fde}.worker-line{stroke:#9aa7bd}
@media (prefers-color-scheme:dark){text{fill:#dfdfd6}.muted{fill:#98989f}.fleet-label{fill:#5c8fef}.worker-label{fill:#8b949e}.asked{stroke:#484f58}.fleet,.fleet-line{stroke:#5c8fef}.worker,.worker-line{stroke:#8b949e}.limit{stroke:#f85149}}
</style>
<text x="10" y="22" font-size="14" font-weight="600">One limit for the fleet, or one per worker: ${LIMIT} starts a second</text>
<text class="muted" x="10" y="40">${WORKERS} workers ask calmly, then at six times the rate, for one key.</text>
<text class="muted" x="10" y="56">Measured: ${WORKERS} processes on one Redis, each also running a limiter of its own.</text>
${out.join('\n')}
</svg>
`;
writeFileSync(new URL('../public/pictures/rate-over-time.svg', import.meta.url), svg);
console.log(`${asked.length} asked; ${summary}`);
