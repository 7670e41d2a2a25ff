import { checkHistory, type HoldEvent, type WriteEvent } from '@oncelock/testkit/history';
import type { RunResult } from './analyse.js';
import type { RunOutput } from './run.js';
import { scenarios } from './scenarios.js';

const W = 960;
const LEFT = 56;
const RIGHT = 16;
const TOP = 64;
const ROW = 36;
// Colours by class, for light and dark pages alike (the docs show these timelines in both):
// a transparent background, and text that follows the reader's colour scheme.
const STYLE = `<style>
text{fill:#1f2328}.muted{fill:#57606a}.grid{stroke:#d8dee4}
.held{fill:#9ecae1;stroke:#3182bd}.fence{fill:#08519c}.both{fill:#de2d26;opacity:.45}
.accepted{stroke:#238b45}.rejected{stroke:#cb181d}
.fault{fill:#fdd0a2;stroke:#fdae6b;opacity:.6}.fault-line{stroke:#e6550d}.fault-label{fill:#a63603}
@media (prefers-color-scheme:dark){text{fill:#dfdfd6}.muted{fill:#98989f}.grid{stroke:#3c3f44}
.held{fill:#1f4e79;stroke:#6baed6}.fence{fill:#c6dbef}.accepted{stroke:#3fb950}.rejected{stroke:#f85149}
.fault{fill:#7f3b08;opacity:.5}.fault-label{fill:#fdae6b}}
</style>`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
/** Fences from Redis are microsecond clock readings: the tail is what tells two apart. */
const shortFence = (f: number | null) =>
  f === null ? 'no fence' : String(f).length > 5 ? `…${String(f).slice(-4)}` : String(f);

/**
 * One run as an SVG timeline: a row per worker with the spans it believed it held the lock
 * (red where two workers believed it at once), a tick per accepted write and a cross per
 * rejected one, and the fault shaded across the rows.
 */
export function renderTimeline(run: RunOutput, result: RunResult): string {
  const rows = run.names;
  const plotW = W - LEFT - RIGHT;
  const span = Math.max(1, run.t1 - run.t0);
  const x = (t: number) => LEFT + (Math.min(Math.max(t, run.t0), run.t1) - run.t0) * (plotW / span);
  const rowY = (worker: string) => TOP + rows.indexOf(worker) * ROW;
  const H = TOP + rows.length * ROW + 64;
  const out: string[] = [];

  for (const m of run.marks) {
    const end = m.end ?? m.start;
    const y0 = TOP - 6;
    const h = rows.length * ROW + 6;
    out.push(
      m.end === undefined
        ? `<line x1="${x(m.start)}" x2="${x(m.start)}" y1="${y0}" y2="${y0 + h}" class="fault-line" stroke-width="2"/>`
        : `<rect x="${x(m.start)}" y="${y0}" width="${Math.max(2, x(end) - x(m.start))}" height="${h}" class="fault"/>`,
      `<text x="${x(m.start) + 3}" y="${y0 - 4}" class="fault-label">${esc(m.label)}</text>`,
    );
  }
  rows.forEach((name, i) => {
    const y = TOP + i * ROW;
    out.push(
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y + ROW / 2}" y2="${y + ROW / 2}" class="grid"/>`,
      `<text x="${LEFT - 8}" y="${y + ROW / 2 + 4}" text-anchor="end" font-weight="bold">${name}</text>`,
    );
  });

  const holds = run.events.filter((e): e is HoldEvent => e.type === 'hold');
  for (const h of holds) {
    const y = rowY(h.worker) + 8;
    const w = Math.max(1, x(h.end) - x(h.start));
    const tip = `${h.worker} believed it held the lock, fence ${h.fence ?? 'none'}, ${Math.round(h.start - run.t0)}–${Math.round(h.end - run.t0)} ms`;
    out.push(
      `<rect x="${x(h.start)}" y="${y}" width="${w}" height="${ROW - 16}" class="held"><title>${esc(tip)}</title></rect>`,
    );
    if (w > 44)
      out.push(`<text x="${x(h.start) + 4}" y="${y + 14}" class="fence">${esc(shortFence(h.fence))}</text>`);
  }
  // Where two workers believed they held it at once, on both rows.
  for (const { a, b } of checkHistory(run.events, { fenced: run.fenced }).holdOverlaps) {
    const from = b.start;
    const to = Math.min(a.end, b.end);
    for (const who of [a.worker, b.worker]) {
      out.push(
        `<rect x="${x(from)}" y="${rowY(who) + 8}" width="${Math.max(1, x(to) - x(from))}" height="${ROW - 16}" class="both"><title>both ${esc(a.worker)} and ${esc(b.worker)} believed they held it: ${Math.round(to - from)} ms</title></rect>`,
      );
    }
  }
  for (const w of run.events.filter((e): e is WriteEvent => e.type === 'write')) {
    const cx = x((w.start + w.end) / 2);
    const cy = rowY(w.worker) + ROW / 2;
    const tip = `${w.worker} wrote with fence ${w.fence ?? 'none'}: ${w.accepted ? 'accepted' : 'rejected (stale fence)'}`;
    out.push(
      w.accepted
        ? `<line x1="${cx}" x2="${cx}" y1="${cy - 9}" y2="${cy + 9}" class="accepted" stroke-width="2"><title>${esc(tip)}</title></line>`
        : `<path d="M${cx - 6},${cy - 6}L${cx + 6},${cy + 6}M${cx + 6},${cy - 6}L${cx - 6},${cy + 6}" class="rejected" stroke-width="2.5"><title>${esc(tip)}</title></path>`,
    );
  }

  const axisY = TOP + rows.length * ROW + 8;
  for (let i = 0; i <= 8; i++) {
    const t = run.t0 + (span * i) / 8;
    out.push(
      `<text x="${x(t)}" y="${axisY + 12}" text-anchor="middle" class="muted">${((t - run.t0) / 1000).toFixed(2)} s</text>`,
    );
  }
  const r = result;
  const verdict = r.fenced
    ? `fenced: ${r.fenceRegressions === 0 ? 'no stale write accepted out of order' : `${r.fenceRegressions} FENCE REGRESSIONS`}`
    : `no fences: ${r.staleAccepted} stale writes accepted`;
  const figures = `${r.tenures} tenures · ${r.accepted} writes accepted, ${r.rejected} rejected · ${r.holdOverlaps} believed-held overlaps (${r.overlapMs} ms) · takeover ${r.takeoverMs ?? '–'} ms · ${verdict}`;
  const legend = [
    `<rect x="${LEFT}" y="${H - 22}" width="18" height="10" class="held"/><text x="${LEFT + 24}" y="${H - 13}">believed held (fence)</text>`,
    `<rect x="${LEFT + 170}" y="${H - 22}" width="18" height="10" class="both"/><text x="${LEFT + 194}" y="${H - 13}">two believed it at once</text>`,
    `<line x1="${LEFT + 360}" x2="${LEFT + 360}" y1="${H - 25}" y2="${H - 9}" class="accepted" stroke-width="2"/><text x="${LEFT + 368}" y="${H - 13}">write accepted</text>`,
    `<path d="M${LEFT + 470},${H - 23}L${LEFT + 480},${H - 11}M${LEFT + 480},${H - 23}L${LEFT + 470},${H - 11}" class="rejected" stroke-width="2.5"/><text x="${LEFT + 488}" y="${H - 13}">write rejected (stale fence)</text>`,
  ].join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11" role="img">
<title>${esc(`${run.backend} · ${run.scenario}: ${scenarios[run.scenario].title}; ${figures}`)}</title>
${STYLE}
<text x="${LEFT}" y="18" font-size="14" font-weight="bold">${esc(`${run.backend} · ${run.scenario}`)}</text>
<text x="${LEFT + 150}" y="18" class="muted">${esc(`${scenarios[run.scenario].title}; TTL ${run.ttl} ms`)}</text>
<text x="${LEFT}" y="36">${esc(figures)}</text>
${out.join('\n')}
${legend}
</svg>
`;
}
