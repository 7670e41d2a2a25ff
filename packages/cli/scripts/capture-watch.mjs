// Makes the docs' picture of `oncelock watch`: takes three leases on the local Redis, runs the
// built command in a tmux pane of a fixed size, captures the screen as text and writes it as an
// SVG (each line stretched to its exact width, so no font can cut it).
// Run from packages/cli after a build: node scripts/capture-watch.mjs
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { devNull } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { lease, redisBackend } from '@oncelock/redis';
import { redisUrl } from '@oncelock/testkit/servers';

const out = new URL('../../../docs/public/pictures/oncelock-watch.svg', import.meta.url);
const [width, height] = [100, 9];
const namespace = 'docs-ops:';
const backend = redisBackend({ url: redisUrl, prefix: namespace });
const tmux = (...args) =>
  execFileSync('tmux', ['-L', 'oncelock-docs', '-f', devNull, ...args], { encoding: 'utf8' });
const held = [];
let screen;
try {
  held.push(await lease(backend, 'invoices:backfill', { ttl: 30_000 }));
  held.push(await lease(backend, 'reports:nightly', { ttl: 120_000 }));
  await sleep(2500);
  held.push(await lease(backend, 'search:reindex:eu', { ttl: 15_000 }));
  const bin = new URL('../dist/bin.js', import.meta.url).pathname;
  tmux(
    'new-session',
    '-d',
    '-s',
    'w',
    '-x',
    String(width),
    '-y',
    String(height),
    process.execPath,
    bin,
    'watch',
    redisUrl,
    '--namespace',
    namespace,
  );
  await sleep(4000);
  screen = tmux('capture-pane', '-p', '-t', 'w').replace(/\s+$/, '');
  tmux('send-keys', '-t', 'w', 'q');
} finally {
  try {
    tmux('kill-server');
  } catch {}
  for (const l of held) await l.release();
  await backend.close();
}

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const [cw, lh, pad] = [8.4, 18, 14];
const lines = screen.split('\n');
const w = Math.ceil(width * cw + 2 * pad);
const h = lines.length * lh + 2 * pad;
const text = lines
  .map((line, i) => {
    const y = pad + (i + 1) * lh - 5;
    const fit = line.length
      ? ` textLength="${(line.length * cw).toFixed(1)}" lengthAdjust="spacingAndGlyphs"`
      : '';
    return `<text x="${pad}" y="${y}"${fit} xml:space="preserve">${esc(line)}</text>`;
  })
  .join('\n');
writeFileSync(
  out,
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="14">
<title>oncelock watch in a terminal: three leases, their owners, fences, ages and TTLs</title>
<rect width="100%" height="100%" rx="6" fill="#1e1e1e"/>
<g fill="#d4d4d4">
${text}
</g>
</svg>
`,
);
console.log(screen);
