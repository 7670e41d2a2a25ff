import type { Chart } from './types.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const SPAN = 400;
const TEXT_W = 110;
// About the width of one character at 13 px, for sizing the label column to the longest label.
const CHAR_W = 7;
const BAR_H = 22;
const GAP = 8;
const TOP = 40;

/** oncelock stands out; the parts of oncelock measured alone are paler. */
function colour(label: string): string {
  if (label.startsWith('oncelock')) return '#2f6fde';
  if (label.startsWith('breakdown')) return '#b9c9ea';
  return '#9aa7bd';
}

/** A horizontal bar chart as a self-contained SVG (no fonts or scripts to fetch). */
export function barChart(chart: Chart): string {
  const bars = chart.bars.filter((b) => Number.isFinite(b.value) && b.value > 0);
  const LABEL_W = Math.max(160, ...bars.map((b) => b.label.length * CHAR_W + 16));
  const W = Math.max(LABEL_W + SPAN + TEXT_W, chart.title.length * (CHAR_W + 0.5) + 20);
  const span = SPAN;
  const max = Math.max(...bars.map((b) => b.value), Number.MIN_VALUE);
  const min = Math.min(...bars.map((b) => b.value), max);
  // On a log axis the shortest bar still gets a tenth of the span, so it stays visible.
  const lo = chart.log ? Math.log10(min) - 0.1 * Math.max(1, Math.log10(max / min)) : 0;
  const scale = (v: number) =>
    chart.log ? ((Math.log10(v) - lo) / (Math.log10(max) - lo || 1)) * span : (v / max) * span;
  const height = TOP + bars.length * (BAR_H + GAP) + (chart.log ? 30 : 10);
  const rows = bars.map((b, i) => {
    const y = TOP + i * (BAR_H + GAP);
    const w = Math.max(1, scale(b.value));
    const text = b.text ?? `${b.value} ${chart.unit}`;
    return [
      `<text x="${LABEL_W - 8}" y="${y + BAR_H * 0.7}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${colour(b.label)}"/>`,
      `<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + BAR_H * 0.7}">${esc(text)}</text>`,
    ].join('');
  });
  const axis = chart.log ? `<text x="${LABEL_W}" y="${height - 8}" fill="#666">logarithmic scale</text>` : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="14" font-weight="600">${esc(chart.title)}</text>`,
    ...rows,
    axis,
    '</svg>',
    '',
  ].join('\n');
}
