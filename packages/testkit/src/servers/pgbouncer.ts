import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BackendUnavailableError, InvalidArgumentError } from '@oncelock/core';
import { checkLoopbackHost, checkPort } from '../faults/loopback.js';
import { freePort } from './redis.js';

const PKG = '@oncelock/testkit';

export interface PgbouncerOptions {
  /** The PostgreSQL server it pools for; loopback only. Default 127.0.0.1:5432, user `postgres`. */
  upstream?: { host?: string; port?: number; user?: string };
  /** The database it serves (under the same name). Default `test`. */
  database?: string;
  /** Default `transaction`: a server session per transaction, the mode that breaks session state. */
  poolMode?: 'session' | 'transaction' | 'statement';
  /** Server connections per database and user. Default 2. */
  poolSize?: number;
}

/** A throwaway `pgbouncer` on a free loopback port, with its own config in a temp dir. */
export interface PgbouncerServer {
  readonly port: number;
  /** `postgres://<user>@127.0.0.1:<port>/<database>` */
  readonly url: string;
  readonly pid: number;
  /** Stops it (SIGTERM, then SIGKILL) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * The `pgbouncer` executable, or `undefined` if it is not installed. Debian puts it in
 * /usr/sbin, which is not on every user's PATH. Install: `apt-get install -y pgbouncer`.
 */
export function pgbouncerBinary(): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/local/bin',
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = join(dir, 'pgbouncer');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function config(
  port: number,
  o: Required<PgbouncerOptions> & { upstream: Required<NonNullable<PgbouncerOptions['upstream']>> },
): string {
  const u = o.upstream;
  // auth_type any: clients are not checked, and every connection logs in upstream as `user`.
  return `[databases]
${o.database} = host=${u.host} port=${u.port} dbname=${o.database} user=${u.user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = any
pool_mode = ${o.poolMode}
default_pool_size = ${o.poolSize}
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
`;
}

function parse(options: PgbouncerOptions) {
  const o = options ?? {};
  const host = checkLoopbackHost(o.upstream?.host ?? '127.0.0.1', 'upstream.host');
  const port = checkPort(o.upstream?.port ?? 5432, 'upstream.port');
  const user = o.upstream?.user ?? 'postgres';
  const database = o.database ?? 'test';
  const name = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
  if (!name.test(user))
    throw new InvalidArgumentError('upstream.user must be a plain identifier', { pkg: PKG });
  if (!name.test(database))
    throw new InvalidArgumentError('database must be a plain identifier', { pkg: PKG });
  const poolMode = o.poolMode ?? 'transaction';
  if (!['session', 'transaction', 'statement'].includes(poolMode)) {
    throw new InvalidArgumentError(
      `poolMode must be session, transaction or statement, got ${String(poolMode)}`,
      { pkg: PKG },
    );
  }
  const poolSize = o.poolSize ?? 2;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 100) {
    throw new InvalidArgumentError('poolSize must be a whole number from 1 to 100', { pkg: PKG });
  }
  return { upstream: { host, port, user }, database, poolMode, poolSize };
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Runs pgbouncer on `port` until it accepts connections; rejects with its log if it exits first. */
async function run(bin: string, dir: string, port: number): Promise<ChildProcess> {
  // pgbouncer refuses to run as root; as root, drop to `nobody`, which must read the config.
  const asRoot = process.getuid?.() === 0;
  const child = spawn(bin, [...(asRoot ? ['-u', 'nobody'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let log = '';
  const collect = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4096);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let failed: Error | undefined;
  child.once('error', (error) => {
    failed = error;
  });
  child.once('exit', (code) => {
    failed ??= new Error(`exited with ${code}`);
  });
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (failed) break;
    if (await accepts(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  const why = failed?.message ?? 'did not listen within 10 s';
  throw new BackendUnavailableError(`pgbouncer on port ${port} ${why}:\n${log}`, { pkg: PKG, cause: failed });
}

/**
 * Starts `pgbouncer` (from Debian's `pgbouncer` package) on a free 127.0.0.1 port in front of
 * a loopback PostgreSQL. Throws `BackendUnavailableError` if the binary is missing: check
 * {@link pgbouncerBinary} first to skip a suite instead.
 */
export async function startPgbouncer(options: PgbouncerOptions = {}): Promise<PgbouncerServer> {
  const o = parse(options);
  const bin = pgbouncerBinary();
  if (!bin)
    throw new BackendUnavailableError('pgbouncer is not installed (apt-get install -y pgbouncer)', {
      pkg: PKG,
    });
  const dir = mkdtempSync(join(tmpdir(), 'oncelock-pgbouncer-'));
  chmodSync(dir, 0o755);
  let child: ChildProcess | undefined;
  let port = 0;
  try {
    for (let attempt = 0; !child; attempt++) {
      port = await freePort();
      writeFileSync(join(dir, 'pgbouncer.ini'), config(port, o), { mode: 0o644 });
      try {
        child = await run(bin, dir, port);
      } catch (error) {
        // Another process may have taken the port between our probe and pgbouncer's bind.
        if (attempt >= 3 || !String(error).includes('Address already in use')) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const running = child;
  let stopping: Promise<void> | undefined;
  return {
    port,
    url: `postgres://${o.upstream.user}@127.0.0.1:${port}/${o.database}`,
    pid: running.pid ?? -1,
    stop() {
      stopping ??= (async () => {
        if (running.exitCode === null && running.signalCode === null) {
          const exited = new Promise((resolve) => running.once('exit', resolve));
          running.kill('SIGTERM');
          const timer = setTimeout(() => running.kill('SIGKILL'), 2_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
