// Draws docs/public/pictures/permits-over-time.svg from a real run: six workers, each with its
// own connection to Redis, take permits of one key with limit 2, hold each for a while and
// release it. The picture shows who held a permit when, and how many were held at once.
// Usage (Redis on ONCELOCK_REDIS_URL or 127.0.0.1:6379): node docs/scripts/limits-picture.mjs
import { writeFileSync } from 'node:fs';
import { lease, redisBackend } from '@oncelock/redis';

const url = process.env.ONCELOCK_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LIMIT = 2;
const WORKERS = 6;
const RUN_MS = 3000;
const key = `docs:permits:${Date.now()}`;

const t0 = performance.now();
/** @type {Array<{ worker: number; start: number; end: number; fence: number }>} */
const spans = [];
await Promise.all(
  Array.from({ length: WORKERS }, async (_, worker) => {
    const backend = redisBackend({ url });
    try {
      while (performance.now() - t0 < RUN_MS) {
        const permit = await lease(backend, key, { limit: LIMIT, ttl: 5_000, wait: 5_000 });
        const start = performance.now() - t0;
        await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 250));
        spans.push({ worker, start, end: performance.now() - t0, fence: permit.fence });
        await permit.release();
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
      }
    } finally {
      await backend.close();
    }
  }),
);

const end = Math.max(...spans.map((s) => s.end));
const W = 640;
const LEFT = 86;
const RIGHT = 14;
const TOP = 44;
const ROW = 22;
const CHART = 60;
const x = (/** @type {number} */ t) => LEFT + (t / end) * (W - LEFT - RIGHT);
const chartTop = TOP + WORKERS * ROW + 24;
const H = chartTop + CHART + 40;
const out = [];
for (let w = 0; w < WORKERS; w++) {
  const y = TOP + w * ROW;
  out.push(`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${y + ROW / 2}" y2="${y + ROW / 2}"/>`);
  out.push(`<text x="${LEFT - 8}" y="${y + ROW / 2 + 4}" text-anchor="end">worker ${w + 1}</text>`);
}
for (const s of spans) {
  const y = TOP + s.worker * ROW + 4;
  out.push(
    `<rect class="held" x="${x(s.start).toFixed(1)}" y="${y}" width="${Math.max(1, x(s.end) - x(s.start)).toFixed(1)}" height="${ROW - 8}" rx="2"/>`,
  );
}
// How many permits were held at each moment: a step line that never rises above the limit.
/** @type {Array<{ t: number; d: number }>} */
const edges = spans
  .flatMap((s) => [
    { t: s.start, d: 1 },
    { t: s.end, d: -1 },
  ])
  .sort((a, b) => a.t - b.t || a.d - b.d);
const yOf = (/** @type {number} */ n) => chartTop + CHART - (n / LIMIT) * (CHART - 8);
let held = 0;
let path = `M${LEFT},${yOf(0)}`;
let most = 0;
for (const { t, d } of edges) {
  path += `H${x(t).toFixed(1)}`;
  held += d;
  most = Math.max(most, held);
  path += `V${yOf(held).toFixed(1)}`;
}
out.push(`<line class="limit" x1="${LEFT}" x2="${W - RIGHT}" y1="${yOf(LIMIT)}" y2="${yOf(LIMIT)}"/>`);
out.push(`<text class="muted" x="${LEFT - 8}" y="${yOf(LIMIT) + 4}" text-anchor="end">limit ${LIMIT}</text>`);
out.push(`<text class="muted" x="${LEFT - 8}" y="${yOf(0) + 4}" text-anchor="end">0 held</text>`);
out.push(`<path class="count" d="${path}H${W - RIGHT}"/>`);
for (let i = 0; i <= 6; i++) {
  const t = (end * i) / 6;
  // The first and last labels sit inside the picture, not centred past its edges.
  const anchor = i === 0 ? 'start' : i === 6 ? 'end' : 'middle';
  out.push(
    `<text class="muted" x="${x(t).toFixed(1)}" y="${H - 12}" text-anchor="${anchor}">${(t / 1000).toFixed(1)} s</text>`,
  );
}
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-labelledby="t">
<title id="t">Six workers on separate connections share one key with limit ${LIMIT}: at most ${LIMIT} hold a permit at any moment (${spans.length} permits in ${(end / 1000).toFixed(1)} s, at most ${most} at once)</title>
<style>
text{fill:#1f2328}.muted{fill:#656d76}.grid{stroke:#d0d7de}.held{fill:#2f6fde}.limit{stroke:#cb2431;stroke-dasharray:4 3}.count{fill:none;stroke:#1f883d;stroke-width:2}
@media (prefers-color-scheme:dark){text{fill:#dfdfd6}.muted{fill:#98989f}.grid{stroke:#3c3f44}.held{fill:#5c8fef}.limit{stroke:#f85149}.count{stroke:#3fb950}}
</style>
<text x="10" y="22" font-size="14" font-weight="600">Permits of one key, limit ${LIMIT}, across six workers (a real run on Redis)</text>
${out.join('\n')}
</svg>
`;
writeFileSync(new URL('../public/pictures/permits-over-time.svg', import.meta.url), svg);
console.log(`${spans.length} permits, at most ${most} held at once`);
