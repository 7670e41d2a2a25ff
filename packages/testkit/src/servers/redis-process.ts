import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { BackendUnavailableError } from '@oncelock/core';
import { spawnUntilReady } from './server-process.js';

// Running redis-server processes for the launchers in redis.ts and redis-cluster.ts.

const PKG = '@oncelock/testkit';

/**
 * A free TCP port on 127.0.0.1. With `bus`, port + 10000 is free too (Redis Cluster's bus port).
 * Another process may take it before we bind it: callers retry when the server cannot bind.
 */
export async function freePort(bus = false): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await listenOnce(0);
    if (!bus) return port;
    if (port + 10_000 <= 65_535 && (await listenOnce(port + 10_000).catch(() => 0))) return port;
  }
  throw new BackendUnavailableError('found no free port pair on 127.0.0.1', { pkg: PKG });
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const BIND_FAILED = /Address already in use|Could not create server TCP listening socket/;

/** Runs `redis-server` until it says it accepts connections; rejects with its log if it exits first. */
export function spawnRedis(port: number, dir: string, args: readonly string[]): Promise<ChildProcess> {
  const fixed = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  return spawnUntilReady('redis-server', [...fixed, ...args], {
    ready: 'Ready to accept connections',
    describeExit: (code, log) =>
      `redis-server on port ${port} ${BIND_FAILED.test(log) ? 'EADDRINUSE' : `exited with ${code}`}:\n${log}`,
  });
}

/** SIGKILL, resolved once the process is gone. */
export function killRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Starts on `port`, or on a fresh free port (retrying if another process took it first). */
export async function spawnOnFreePort(
  port: number | undefined,
  dir: string,
  args: readonly string[],
  bus = false,
): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const p = port ?? (await freePort(bus));
    try {
      return { child: await spawnRedis(p, dir, args), port: p };
    } catch (error) {
      if (port !== undefined || attempt >= 5 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}
