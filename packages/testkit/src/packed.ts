import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PackedProject {
  /** The empty project's directory, with the packed packages installed. */
  readonly dir: string;
  /** Runs an ES module script inside the project with Node, resolving its stdout. */
  node(script: string, args?: string[]): Promise<string>;
  /** Writes `source` to `name` inside the project (for scripts that child processes run). */
  write(name: string, source: string): Promise<string>;
  remove(): Promise<void>;
}

/**
 * Packs workspace packages (`pnpm pack`, which rewrites `workspace:` ranges as a publish
 * would) and installs the tarballs with npm into a new, empty project: what a user gets from
 * `npm install`, not what the monorepo compiles. `extra` are registry packages to install
 * beside them (peer dependencies such as `ioredis` or `pg`).
 */
export async function installPacked(
  packageDirs: readonly string[],
  extra: readonly string[] = [],
): Promise<PackedProject> {
  const dir = await mkdtemp(join(tmpdir(), 'oncelock-packed-'));
  const tarballs: string[] = [];
  for (const pkg of packageDirs) {
    await run('pnpm', ['pack', '--pack-destination', dir], { cwd: pkg });
  }
  for (const f of await readdir(dir)) if (f.endsWith('.tgz')) tarballs.push(join(dir, f));
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'packed-check', private: true, type: 'module' }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, ...extra], {
    cwd: dir,
    timeout: 180_000,
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
