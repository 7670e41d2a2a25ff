import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BackendUnavailableError, InvalidArgumentError } from '@oncelock/core';
import { killRedis, spawnOnFreePort } from './redis-process.js';

const PKG = '@oncelock/testkit';
const run = promisify(execFile);

export interface RedisClusterOptions {
  /** How many primaries (no replicas). At least 3, as Redis Cluster requires. */
  primaries: number;
}

/** A throwaway Redis Cluster on loopback: primaries only, no persistence. */
export interface RedisCluster {
  /** Seed nodes for a cluster client (`new Cluster(nodes)`). */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  /** Kills every node and removes their directories. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `primaries` cluster-enabled `redis-server`s on free loopback ports, joins them with
 * `redis-cli --cluster create`, and resolves once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: RedisClusterOptions): Promise<RedisCluster> {
  const primaries = options?.primaries;
  if (!Number.isInteger(primaries) || primaries < 3 || primaries > 16) {
    throw new InvalidArgumentError(
      `primaries must be a whole number from 3 to 16, got ${String(primaries)}`,
      {
        pkg: PKG,
      },
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'oncelock-redis-cluster-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(killRedis));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    // One at a time: two nodes must not pick the same free port.
    for (let i = 0; i < primaries; i++) {
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`];
      const { child, port } = await spawnOnFreePort(
        undefined,
        dir,
        [...args, '--cluster-node-timeout', '2000'],
        true,
      );
      children.push(child);
      ports.push(port);
    }
    const addresses = ports.map((p) => `127.0.0.1:${p}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    await untilEveryNodeIsOk(ports);
    return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
  } catch (error) {
    await stop();
    throw error instanceof InvalidArgumentError || error instanceof BackendUnavailableError
      ? error
      : new BackendUnavailableError(`could not start a Redis Cluster: ${String(error)}`, {
          pkg: PKG,
          cause: error,
        });
  }
}

/** Every node must see the whole cluster and all slots covered, or a client may hit a CLUSTERDOWN. */
async function untilEveryNodeIsOk(ports: number[]): Promise<void> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const infos = await Promise.all(
      ports.map((p) => run('redis-cli', ['-p', String(p), 'cluster', 'info']).then((r) => r.stdout)),
    );
    const ok = infos.every(
      (info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${ports.length}`),
    );
    if (ok) return;
    if (performance.now() > deadline) {
      throw new BackendUnavailableError(`Redis Cluster did not become ready:\n${infos.join('\n')}`, {
        pkg: PKG,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
