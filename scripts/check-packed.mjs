// Packs every publishable package and checks what users would install: publint for the
// package.json and exports map, are-the-types-wrong for the types under each resolution mode,
// and the LICENSE and links a registry page shows. pnpm packs the workspace root's LICENSE
// into a package that has none of its own; this checks that it still does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from './packed.mjs';

const bin = (name) => join(process.cwd(), 'node_modules/.bin', name);
const out = mkdtempSync(join(tmpdir(), 'oncelock-pack-'));
let failed = 0;
try {
  for (const dir of readdirSync('packages')) {
    const pkg = JSON.parse(readFileSync(join('packages', dir, 'package.json'), 'utf8'));
    if (pkg.private) continue;
    const tarball = await pack(join('packages', dir), out);
    const packed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    const missing = [
      ...['package/LICENSE', 'package/README.md'].filter((f) => !packed.includes(f)),
      ...['repository', 'homepage', 'bugs'].filter((field) => !pkg[field]),
    ];
    if (missing.length) {
      failed++;
      console.error(`${pkg.name}: the packed package lacks ${missing.join(', ')}`);
    }
    for (const [tool, args] of [
      ['publint', ['run', tarball, '--strict']],
      ['attw', [tarball, '--profile', 'esm-only', '--format', 'table-flipped']],
    ]) {
      try {
        execFileSync(bin(tool), args, { stdio: 'pipe' });
      } catch (error) {
        failed++;
        console.error(`${pkg.name}: ${tool} found problems\n${error.stdout}${error.stderr}`);
      }
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.log('packed tarballs: publint and attw clean, LICENSE, README and links present');
