import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@oncelock/core';
import { killRedis, spawnOnFreePort } from './redis-process.js';

export { freePort } from './redis-process.js';

const PKG = '@oncelock/testkit';

export interface RedisServerOptions {
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `['--requirepass', 'secret']`. */
  args?: readonly string[];
}

/** A throwaway `redis-server` on loopback, without persistence, in its own temp dir. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The process id of the running server (it changes on restart). */
  readonly pid: number;
  /** Kills the server (SIGKILL) and removes its directory. Idempotent. */
  stop(): Promise<void>;
  /** Kills the server and starts a fresh one on the same port: every key is gone, as after a crash. */
  restart(): Promise<void>;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const { port: wanted, args = [] } = options ?? {};
  if (wanted !== undefined && (!Number.isInteger(wanted) || wanted < 1 || wanted > 65_535)) {
    throw new InvalidArgumentError(`port must be a TCP port number, got ${String(wanted)}`, { pkg: PKG });
  }
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new InvalidArgumentError('args must be an array of strings', { pkg: PKG });
  }
  const dir = mkdtempSync(join(tmpdir(), 'oncelock-redis-'));
  let { child, port } = await spawnOnFreePort(wanted, dir, args).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid ?? -1;
    },
    async stop() {
      stopped = true;
      await killRedis(child);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      if (stopped) throw new InvalidArgumentError('this redis-server was stopped', { pkg: PKG });
      await killRedis(child);
      ({ child, port } = await spawnOnFreePort(port, dir, args));
    },
  };
}
