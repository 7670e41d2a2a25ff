// Debian packages some tests need, installed by the test command itself when they are missing,
// so that `npm test` on a fresh machine runs what CI runs. Installing needs root and apt-get;
// without them, each missing package is named with the tests that will skip or fail for it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needed = [
  {
    pkg: 'pgbouncer',
    bins: ['pgbouncer', '/usr/sbin/pgbouncer'],
    for: 'the transaction-pooler tests of @oncelock/postgres',
  },
  { pkg: 'chromium', bins: ['chromium'], for: 'the docs site tests (layout, links, screenshots)' },
  { pkg: 'tmux', bins: ['tmux'], for: "the CLI's real-terminal test" },
  { pkg: 'prometheus', bins: ['prometheus'], for: 'the metrics test against a real Prometheus' },
];

const onPath = (bin) =>
  bin.startsWith('/') ? existsSync(bin) : spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const present = (n) => n.bins.some(onPath);

/** Installs what is missing when it can; returns lines naming what is still missing, and why it matters. */
export function ensureSystemPackages() {
  let missing = needed.filter((n) => !present(n));
  const canInstall = process.getuid?.() === 0 && onPath('apt-get');
  if (missing.length > 0 && canInstall) {
    const names = missing.map((n) => n.pkg);
    console.log(`installing ${names.join(', ')} (Debian packages the tests need)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const quiet = { stdio: ['ignore', 'ignore', 'inherit'], env };
    if (spawnSync('apt-get', ['update', '-qq'], quiet).status === 0)
      spawnSync('apt-get', ['install', '-y', '-qq', ...names], quiet);
    missing = missing.filter((n) => !present(n));
  }
  const why = canInstall
    ? 'could not be installed'
    : 'is not installed (run as root with apt-get to install it)';
  return missing.map((n) => `${n.pkg} ${why}: ${n.for} will skip or fail`);
}
