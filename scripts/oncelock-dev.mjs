#!/usr/bin/env node
// The two commands of the README, runnable on a fresh machine with only Node.js and npm:
//   npm run demo   installs, builds, runs the demo on the embedded (in-memory) backend
//   npm test       installs, starts Redis/PostgreSQL if down, builds, lints, type-checks,
//                  checks the packed tarballs, runs every test, prints "N passed, N failed"
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureServices } from './services.mjs';
import { ensureSystemPackages } from './system-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM = 'pnpm@12.21.0';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

function must(cmd, args, what) {
  const code = run(cmd, args);
  if (code !== 0) {
    console.error(`\n${what} failed (exit ${code})`);
    console.log('0 passed, 1 failed');
    process.exit(code);
  }
}

const pnpmOnPath = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0;

function runPnpm(args) {
  return run(pnpmOnPath ? 'pnpm' : 'npx', pnpmOnPath ? args : ['--yes', PNPM, ...args]);
}

function pnpm(args, what) {
  must(pnpmOnPath ? 'pnpm' : 'npx', pnpmOnPath ? args : ['--yes', PNPM, ...args], what);
}

function install() {
  if (!existsSync(join(root, 'node_modules/.modules.yaml')))
    pnpm(['install', '--frozen-lockfile'], 'install');
}

const command = process.argv[2];
install();
if (command === 'demo') {
  pnpm(
    ['turbo', 'run', 'build', '--filter=@oncelock/app-audit-log-backfill...', '--output-logs=errors-only'],
    'build',
  );
  process.exit(run('node', ['apps/audit-log-backfill/dist/main.js', ...process.argv.slice(3)]));
} else if (command === 'test') {
  const missingPackages = ensureSystemPackages();
  await ensureServices();
  pnpm(['turbo', 'run', 'build', '--output-logs=errors-only'], 'build');
  // Static checks each count as one failure but do not stop the tests: one lint slip must not hide the suite.
  const checks = [
    ['lint', ['lint']],
    ['type-check', ['turbo', 'run', 'typecheck', '--output-logs=errors-only']],
    ['packed-tarball check', ['check:packed']],
  ];
  const failedChecks = checks.filter(([, args]) => runPnpm(args) !== 0).map(([name]) => name);
  const out = join(root, '.test-results/vitest.json');
  rmSync(out, { force: true });
  mkdirSync(dirname(out), { recursive: true });
  const code = run(join(root, 'node_modules/.bin/vitest'), ['run', ...process.argv.slice(3)], {
    env: { ...process.env, CI: process.env.CI ?? 'true' },
  });
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (existsSync(out)) {
    const r = JSON.parse(readFileSync(out, 'utf8'));
    passed = r.numPassedTests;
    failed = r.numFailedTests;
    skipped = r.numPendingTests + r.numTodoTests;
    // A suite that failed to load, or an unhandled rejection, fails the run without failing a test.
    failed += r.testResults.filter(
      (f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed'),
    ).length;
  }
  if (code !== 0 && failed === 0) failed = 1;
  if (failedChecks.length) console.error(`\nfailed checks: ${failedChecks.join(', ')}`);
  for (const line of missingPackages) console.log(line);
  failed += failedChecks.length;
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed > 0 ? 1 : 0);
} else {
  console.error('usage: oncelock-dev.mjs demo|test');
  process.exit(2);
}
