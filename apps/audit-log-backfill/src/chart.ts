import type { ArmResult } from './metrics.js';
import type { ArmName } from './options.js';

const colors: Record<ArmName, string> = { naive: '#d62728', oncelock: '#1f77b4', loop: '#2ca02c' };
const W = 760;
const PANEL_H = 200;
const M = { left: 60, right: 20, top: 36, bottom: 34 };

/** Rounds an axis maximum up to a round number that divides into four or five ticks. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * p >= v) ?? 10) * p;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** One panel: a step line per arm over time, with its axes and title. */
function panel(
  title: string,
  series: Array<{ arm: ArmName; points: Array<[number, number]> }>,
  top: number,
  xMax: number,
): string {
  const yMax = niceMax(Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1]))));
  const plotW = W - M.left - M.right;
  const x = (t: number) => M.left + (t / xMax) * plotW;
  const y = (v: number) => top + PANEL_H - (v / yMax) * PANEL_H;
  const out = [`<text x="${M.left}" y="${top - 10}" class="title">${esc(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`,
      `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${Number(v.toFixed(1))}</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const t = (xMax * i) / 5;
    out.push(
      `<text x="${x(t)}" y="${top + PANEL_H + 16}" text-anchor="middle">${(t / 1000).toFixed(1)} s</text>`,
    );
  }
  for (const s of series) {
    // A step line: a sampled value holds until the next sample.
    const d = s.points
      .map(([t, v], i) =>
        i === 0 ? `M${x(t).toFixed(1)},${y(v).toFixed(1)}` : `H${x(t).toFixed(1)}V${y(v).toFixed(1)}`,
      )
      .join('');
    out.push(`<path d="${d}" fill="none" stroke="${colors[s.arm]}" stroke-width="1.8"/>`);
  }
  return out.join('\n');
}

/** Queue length and backlog over time, one line per arm, as an SVG document. */
export function renderChart(results: Partial<Record<ArmName, ArmResult>>, subtitle: string): string {
  const arms = (Object.keys(results) as ArmName[]).filter((a) => results[a]);
  const xMax = niceMax(Math.max(1, ...arms.flatMap((a) => results[a]!.queueSeries.map((p) => p[0]))));
  const pick = (f: (r: ArmResult) => Array<[number, number]>) =>
    arms.map((arm) => ({ arm, points: f(results[arm]!) }));
  const H = 2 * (PANEL_H + M.top + M.bottom) + 40;
  const legend = arms
    .map(
      (a, i) =>
        `<rect x="${M.left + i * 140}" y="${H - 24}" width="14" height="4" fill="${colors[a]}"/>` +
        `<text x="${M.left + 20 + i * 140}" y="${H - 18}">${a}</text>`,
    )
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<style>.title{font-size:13px;font-weight:bold}.grid{stroke:#ddd;stroke-width:1}</style>
<rect width="100%" height="100%" fill="white"/>
<text x="${M.left}" y="16" fill="#555">${esc(subtitle)}</text>
${panel(
  'Jobs waiting in the queue',
  pick((r) => r.queueSeries),
  M.top + 10,
  xMax,
)}
${panel(
  'Rows still missing their repr',
  pick((r) => r.backlogSeries),
  M.top + 10 + PANEL_H + M.bottom + M.top,
  xMax,
)}
${legend}
</svg>
`;
}
