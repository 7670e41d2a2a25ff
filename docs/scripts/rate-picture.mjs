// Draws docs/public/pictures/rate-over-time.svg: starts of one key over time under one rate
// limit for the whole fleet (oncelock's GCRA) beside a per-worker limiter (each worker limited
// to the rate on its own, as Celery's rate_limit is). Computed, not measured: both sides run
// core's reference GCRA (`gcra`, what every store computes) on the same seeded arrivals, so the
// picture is the same on every run. The reliability lab measures the real thing.
// Usage (after `pnpm build`): node docs/scripts/rate-picture.mjs
import { writeFileSync } from 'node:fs';
import { gcra } from '@oncelock/core/backend';

const LIMIT = 10;
const PER = 1000;
const WORKERS = 4;
const RUN_MS = 4000;
const WAIT = 500;
/**
 * Requests per second of each worker: calm (the fleet asks for 0.6 times the rate), then a rush
 * in which each worker asks for 1.5 times the rate, so the fleet asks for six times it.
 */
const askRate = (/** @type {number} */ t) =>
  (t < 1000 || t >= 3000 ? 0.6 / WORKERS : 1.5) * LIMIT * (1000 / PER);

/** A small seeded generator (mulberry32): the same arrivals on every run. */
function random(/** @type {number} */ seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

// Each worker asks at random moments (a Poisson process at askRate, drawn by thinning one at
// the rush's rate). Each request waits up to WAIT for a slot (`wait`): granted, it starts at its
// slot; refused, it is dropped.
const next = random(5);
const fastest = askRate(1000);
/** @type {Array<{ t: number; worker: number }>} */
const asks = [];
const gap = () => (-Math.log(1 - next()) / fastest) * 1000;
for (let worker = 0; worker < WORKERS; worker++)
  for (let t = gap(); t < RUN_MS; t += gap()) if (next() < askRate(t) / fastest) asks.push({ t, worker });
asks.sort((a, b) => a.t - b.t);

const request = { key: 'k', limit: LIMIT, per: PER, burst: 0, reserve: WAIT };
/** The starts a limiter grants: `keyOf` says which stored rate a request counts against. */
function starts(/** @type {(worker: number) => string} */ keyOf) {
  /** @type {Map<string, number>} */
  const tats = new Map();
  /** @type {number[]} */
  const out = [];
  for (const { t, worker } of asks) {
    const { decision, tat } = gcra(tats.get(keyOf(worker)), t, request);
    if (!decision.allowed) continue;
    tats.set(keyOf(worker), tat);
    out.push(t + decision.delay);
  }
  // A start reserved past the end of the run is not drawn.
  return out.filter((t) => t < RUN_MS).sort((a, b) => a - b);
}
const fleet = starts(() => 'fleet');
const perWorker = starts((worker) => `worker ${worker}`);

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
  { label: 'asked', times: asks.map((a) => a.t), cls: 'asked' },
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
<title id="t">Four workers ask for starts of one key, limit ${LIMIT} per second, calmly and then at six times the rate (computed with the reference GCRA, not measured). ${summary}.</title>
<style>
text{fill:#1f2328}.muted{fill:#656d76}.fleet-label{fill:#2f6fde}.worker-label{fill:#6e7781}.asked{stroke:#afb8c1}.fleet{stroke:#2f6fde}.worker{stroke:#9aa7bd}.limit{stroke:#cb2431;stroke-dasharray:4 3}polyline{fill:none;stroke-width:2}.fleet-line{stroke:#2f6fde}.worker-line{stroke:#9aa7bd}
@media (prefers-color-scheme:dark){text{fill:#dfdfd6}.muted{fill:#98989f}.fleet-label{fill:#5c8fef}.worker-label{fill:#8b949e}.asked{stroke:#484f58}.fleet,.fleet-line{stroke:#5c8fef}.worker,.worker-line{stroke:#8b949e}.limit{stroke:#f85149}}
</style>
<text x="10" y="22" font-size="14" font-weight="600">One limit for the fleet, or one per worker: ${LIMIT} starts a second</text>
<text class="muted" x="10" y="40">${WORKERS} workers ask calmly, then at six times the rate, for one key.</text>
<text class="muted" x="10" y="56">Computed with the reference GCRA on seeded arrivals, not measured.</text>
${out.join('\n')}
</svg>
`;
writeFileSync(new URL('../public/pictures/rate-over-time.svg', import.meta.url), svg);
console.log(`${asks.length} asked; ${summary}`);
