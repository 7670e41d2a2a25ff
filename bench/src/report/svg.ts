import type { Chart } from './types.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const SPAN = 400;
// Generous widths of one character at 13 px and at 14 px bold: the label column, the value
// column and the title's lines are sized from them, and a reader's font may be wider than ours
// (DejaVu Sans, the usual Linux fallback, is among the widest).
const CHAR_W = 8;
const TITLE_CHAR_W = 9;
const MAX_W = 760;
const BAR_H = 22;
const GAP = 8;
const LINE_H = 20;

/** oncelock stands out; the parts of oncelock measured alone are paler. */
function colour(label: string): string {
  if (label.startsWith('oncelock')) return '#2f6fde';
  if (label.startsWith('breakdown') || label.startsWith('reference')) return '#b9c9ea';
  return '#9aa7bd';
}

/** Words into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width)
      lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * A horizontal bar chart as a self-contained SVG (no fonts or scripts to fetch), on a
 * transparent background, with text that follows the page's light or dark theme: shown with
 * <img>, an SVG takes the color-scheme of the page that embeds it.
 */
export function barChart(chart: Chart): string {
  const bars = chart.bars.filter((b) => Number.isFinite(b.value) && b.value > 0);
  const texts = bars.map((b) => b.text ?? `${b.value} ${chart.unit}`);
  const LABEL_W = Math.max(160, ...bars.map((b) => b.label.length * CHAR_W + 16));
  const TEXT_W = Math.max(110, ...texts.map((t) => t.length * CHAR_W + 16));
  const W = Math.min(MAX_W, Math.max(LABEL_W + SPAN + TEXT_W, chart.title.length * TITLE_CHAR_W + 20));
  const span = W - LABEL_W - TEXT_W;
  const title = wrap(chart.title, Math.floor((W - 20) / TITLE_CHAR_W));
  const top = 12 + title.length * LINE_H;
  const max = Math.max(...bars.map((b) => b.value), Number.MIN_VALUE);
  const min = Math.min(...bars.map((b) => b.value), max);
  // On a log axis the shortest bar still gets a tenth of the span, so it stays visible.
  const lo = chart.log ? Math.log10(min) - 0.1 * Math.max(1, Math.log10(max / min)) : 0;
  const scale = (v: number) =>
    chart.log ? ((Math.log10(v) - lo) / (Math.log10(max) - lo || 1)) * span : (v / max) * span;
  const height = top + bars.length * (BAR_H + GAP) + (chart.log ? 30 : 10);
  const rows = bars.map((b, i) => {
    const y = top + i * (BAR_H + GAP);
    const w = Math.max(1, scale(b.value));
    return [
      `<text x="${LABEL_W - 8}" y="${y + BAR_H * 0.7}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${colour(b.label)}"/>`,
      `<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + BAR_H * 0.7}">${esc(texts[i]!)}</text>`,
    ].join('');
  });
  const axis = chart.log
    ? `<text x="${LABEL_W}" y="${height - 8}" class="muted">logarithmic scale</text>`
    : '';
  const heading = title
    .map(
      (line, i) => `<text x="10" y="${22 + i * LINE_H}" font-size="14" font-weight="600">${esc(line)}</text>`,
    )
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    '<style>text{fill:#1f2328}.muted{fill:#656d76}@media (prefers-color-scheme:dark){text{fill:#dfdfd6}.muted{fill:#98989f}}</style>',
    heading,
    ...rows,
    axis,
    '</svg>',
    '',
  ].join('\n');
}
