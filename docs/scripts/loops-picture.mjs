// Draws docs/public/pictures/loops-timeline.svg: three processes run one singleton loop. The
// picture is computed from the scenario below by the loop's rules, not measured (the lab will add
// a measured one): A leads and runs a pass at once, every `interval` and on each wake-up; A is
// SIGKILLed, so its lease runs out one TTL after its last extension (the heartbeat extends every
// TTL / 3) and B, waiting, takes over then; B is stopped with SIGTERM (stop()): it releases, and
// C takes over at once, woken by the release.
// Usage: node docs/scripts/loops-picture.mjs
import { writeFileSync } from 'node:fs';

const TTL = 6;
const INTERVAL = 10;
const END = 46;
/** Wake-ups sent with wakeSingleton (seconds). */
const WAKES = [4, 13, 33.5];
const KILL_A = 22.7;
const STOP_B = 38;
// A's last extension before the kill, on the heartbeat's TTL / 3 ticks; its lease ends one TTL later.
const lastBeat = Math.floor(KILL_A / (TTL / 3)) * (TTL / 3);
const TAKEOVER = lastBeat + TTL;

/** @typedef {{ name: string; from: number; to: number; fence: number }} Term */
/** @type {Term[]} */
const terms = [
  { name: 'A', from: 0, to: KILL_A, fence: 1 },
  { name: 'B', from: TAKEOVER, to: STOP_B, fence: 2 },
  { name: 'C', from: STOP_B, to: END, fence: 3 },
];

/**
 * When a leader runs passes during its term: at once, every interval after an idle pass, and at
 * each wake-up (which restarts the interval).
 *
 * @param {Term} term
 * @returns {number[]}
 */
function passesOf(term) {
  const out = [];
  let t = term.from;
  while (t < term.to) {
    out.push(t);
    const wake = WAKES.find((w) => w > t && w < t + INTERVAL && w < term.to);
    t = wake ?? t + INTERVAL;
  }
  return out;
}

const W = 680;
const LEFT = 100;
const RIGHT = 16;
const TOP = 84;
const ROW = 40;
/** Each term's bar: from this far below its row's top, this tall. */
const BAR_Y = 18;
const BAR_H = 16;
const x = (/** @type {number} */ t) => LEFT + (t / END) * (W - LEFT - RIGHT);
const rowY = (/** @type {string} */ name) => TOP + ['A', 'B', 'C'].indexOf(name) * ROW;
const H = TOP + 3 * ROW + 60;
const out = [];

out.push(`<text class="muted" x="${LEFT - 8}" y="${TOP - 22}" text-anchor="end">wake-ups</text>`);
for (const w of WAKES) out.push(`<path class="wake" d="M${x(w).toFixed(1)},${TOP - 16}l-5,-9h10z"/>`);
for (const name of ['A', 'B', 'C']) {
  const y = rowY(name) + BAR_Y + BAR_H / 2;
  out.push(`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${y}" y2="${y}"/>`);
  out.push(`<text x="${LEFT - 8}" y="${y + 4}" text-anchor="end">process ${name}</text>`);
}
for (const term of terms) {
  const y = rowY(term.name) + BAR_Y;
  const w = x(term.to) - x(term.from);
  out.push(
    `<rect class="lead" x="${x(term.from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" rx="3"/>`,
  );
  for (const p of passesOf(term))
    out.push(`<rect class="pass" x="${x(p).toFixed(1)}" y="${y}" width="4" height="${BAR_H}"/>`);
  out.push(
    `<text class="muted" x="${(x(term.from) + 2).toFixed(1)}" y="${y - 4}" font-size="11">leads, fence ${term.fence}</text>`,
  );
}
// A's lease outlives A by up to one TTL: nobody runs the body meanwhile.
const ay = rowY('A') + BAR_Y;
out.push(
  `<rect class="ghost" x="${x(KILL_A).toFixed(1)}" y="${ay}" width="${(x(TAKEOVER) - x(KILL_A)).toFixed(1)}" height="${BAR_H}" rx="3"/>`,
);
out.push(`<text class="kill" x="${x(KILL_A).toFixed(1)}" y="${ay + 13}" text-anchor="middle">✕</text>`);
const notes = [
  { t: KILL_A, text: 'A is killed', anchor: 'middle' },
  { t: TAKEOVER, text: `lease ends (TTL ${TTL} s): B takes over`, anchor: 'middle' },
  { t: STOP_B, text: 'B stop(): C at once', anchor: 'start' },
];
const noteY = TOP + 3 * ROW + 10;
for (const n of notes) {
  out.push(
    `<line class="mark" x1="${x(n.t).toFixed(1)}" x2="${x(n.t).toFixed(1)}" y1="${TOP - 4}" y2="${noteY - 12}"/>`,
  );
  out.push(
    `<text class="muted" x="${x(n.t).toFixed(1)}" y="${noteY + (n.anchor === 'middle' && n.t === TAKEOVER ? 14 : 0)}" text-anchor="${n.anchor}">${n.text}</text>`,
  );
}
for (let s = 0; s <= END; s += 10) {
  const anchor = s === 0 ? 'start' : 'middle';
  out.push(`<text class="muted" x="${x(s).toFixed(1)}" y="${H - 8}" text-anchor="${anchor}">${s} s</text>`);
}

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-labelledby="t">
<title id="t">Three processes run one singleton loop (TTL ${TTL} s, interval ${INTERVAL} s): A leads and runs a pass at once, every interval and on each wake-up; A is killed at ${KILL_A} s and B takes over when A's lease ends at ${TAKEOVER} s; B is stopped at ${STOP_B} s and C takes over at once</title>
<style>
text{fill:#1f2328}.muted{fill:#656d76}.grid{stroke:#d0d7de}.lead{fill:#2f6fde}.on{fill:#fff}.pass{fill:#0b2a66}.ghost{fill:none;stroke:#9aa7bd;stroke-dasharray:4 3}.kill{fill:#cb2431;font-size:16px;font-weight:700}.wake{fill:#1f883d}.mark{stroke:#9aa7bd;stroke-dasharray:2 3}
@media (prefers-color-scheme:dark){text{fill:#dfdfd6}.muted{fill:#98989f}.grid{stroke:#3c3f44}.lead{fill:#5c8fef}.on{fill:#0d1117}.pass{fill:#dfe8fb}.kill{fill:#f85149}.wake{fill:#3fb950}}
</style>
<text x="10" y="22" font-size="14" font-weight="600">One singleton loop, three processes: passes, wake-ups, a kill and two takeovers</text>
<text class="muted" x="10" y="42">dark marks: passes · triangles: wakeSingleton() · ✕: SIGKILL · dashed: a dead leader's lease</text>
${out.join('\n')}
</svg>
`;
writeFileSync(new URL('../public/pictures/loops-timeline.svg', import.meta.url), svg);
console.log(`takeover after the kill at ${TAKEOVER} s, ${(TAKEOVER - KILL_A).toFixed(1)} s later`);
