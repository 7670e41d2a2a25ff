// What users install, made from the workspace: repo tooling for scripts/check-packed.mjs and the
// packages' packed.test.ts files. Kept out of every published package.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Packs one workspace package into `dest` with `pnpm pack`, which rewrites `workspace:` ranges
 * as a publish would; resolves with the tarball's path.
 */
export async function pack(packageDir, dest) {
  await run('pnpm', ['pack', '--pack-destination', dest], { cwd: packageDir });
  const { name, version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
  return join(dest, `${name.replace('@', '').replace('/', '-')}-${version}.tgz`);
}

/**
 * Packs workspace packages and installs the tarballs with npm into a new, empty project: what a
 * user gets from `npm install`, not what the monorepo compiles. `extra` are registry packages to
 * install beside them (peer dependencies such as `ioredis@6` or `pg`). Rejects when `npm ls` finds
 * a dependency outside its range, as a user's next `npm install` would.
 */
export async function installPacked(packageDirs, extra = []) {
  const dir = await mkdtemp(join(tmpdir(), 'oncelock-packed-'));
  const tarballs = [];
  for (const pkg of packageDirs) tarballs.push(await pack(pkg, dir));
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'packed-check', private: true, type: 'module' }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, ...extra], {
    cwd: dir,
    timeout: 180_000,
  });
  // npm only warns when an installed peer is outside a package's range, and every later
  // `npm install` or `npm ci` in that project then fails with ERESOLVE; `npm ls` fails at once.
  await run('npm', ['ls', '--all'], { cwd: dir, timeout: 60_000 }).catch((error) => {
    throw new Error(`npm ls failed after installing ${extra.join(' ')}:\n${error.stdout}${error.stderr}`);
  });
  return {
    dir,
    async node(script, args = []) {
      const { stdout } = await run(process.execPath, [script, ...args], { cwd: dir, timeout: 120_000 });
      return stdout;
    },
    async write(name, source) {
      const file = join(dir, name);
      await writeFile(file, source);
      return file;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
