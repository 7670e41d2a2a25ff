import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendUnavailableError } from '@oncelock/core';
import { freePort } from './redis-process.js';
import { spawnUntilReady } from './server-process.js';

// A PostgreSQL server of a test's own, for faults that would hurt every other test on the shared
// one: a crash (every session ends and unlogged tables are emptied), a frozen WAL writer.

const PKG = '@oncelock/testkit';

export interface PostgresClusterOptions {
  /** Server settings, as `-c name=value`. */
  settings?: Record<string, string | number>;
}

/** A throwaway PostgreSQL cluster on a free loopback port, its data in a temp dir. */
export interface PostgresCluster {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** The postmaster's pid. */
  pid(): number;
  /** The pid of the server's WAL writer (it flushes commits that did not wait for the flush). */
  walWriterPid(): Promise<number>;
  /**
   * Kills the WAL writer with SIGKILL. The postmaster treats a child that dies so as a crash:
   * it ends every session and recovers from the WAL on disk, as after a power cut. Resolves once
   * the server accepts connections again.
   */
  crash(): Promise<void>;
  /** Stops it (SIGQUIT, then SIGKILL) and removes its data. Idempotent. */
  stop(): Promise<void>;
}

/** The directory of PostgreSQL's server programs (initdb, postgres), or undefined if none is installed. */
export function postgresBinDir(): string | undefined {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // no pg_config on PATH
  }
  // Debian keeps the server programs out of PATH, one directory per major version (newest first).
  const root = '/usr/lib/postgresql';
  if (existsSync(root))
    candidates.push(
      ...readdirSync(root)
        .sort((a, b) => Number(b) - Number(a))
        .map((m) => join(root, m, 'bin')),
    );
  return candidates.find((d) => existsSync(join(d, 'initdb')));
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Starts a new cluster: initdb, then the server, trust auth for `postgres` on 127.0.0.1 only. */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new BackendUnavailableError('PostgreSQL server programs not found (initdb)', { pkg: PKG });
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'oncelock-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync'], {
    ...user,
    stdio: 'ignore',
  });
  const port = await freePort();
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, ...options.settings };
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const server = await spawnUntilReady(join(bin, 'postgres'), args, {
    ...user,
    ready: 'ready to accept connections',
    describeExit: (code, log) => `postgres on port ${port} exited with ${code}:\n${log}`,
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;

  const query = async <R>(text: string): Promise<R[]> => {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text)).rows as R[];
    } finally {
      await client.end();
    }
  };

  async function ready(): Promise<void> {
    for (let i = 0; i < 300; i++) {
      try {
        await query('SELECT 1');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new BackendUnavailableError(`the PostgreSQL cluster on port ${port} did not come back`, {
      pkg: PKG,
    });
  }

  const walWriterPid = async () => {
    const [row] = await query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'",
    );
    if (!row) throw new BackendUnavailableError('the cluster has no WAL writer', { pkg: PKG });
    return row.pid;
  };

  return {
    port,
    url,
    pid: () => server.pid ?? 0,
    walWriterPid,
    async crash() {
      const pid = await walWriterPid();
      process.kill(pid, 'SIGKILL');
      // Back once a new WAL writer runs: the postmaster has ended every session and recovered.
      for (let i = 0; i < 400; i++) {
        await ready();
        if ((await walWriterPid().catch(() => pid)) !== pid) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new BackendUnavailableError(`the PostgreSQL cluster on port ${port} did not recover`, {
        pkg: PKG,
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => {
        if (server.exitCode !== null || server.signalCode !== null) return resolve();
        const force = setTimeout(() => server.kill('SIGKILL'), 5000);
        server.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        // SIGQUIT: immediate shutdown; the data is thrown away anyway.
        server.kill('SIGQUIT');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
