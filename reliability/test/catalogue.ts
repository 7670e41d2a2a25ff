import { randomBytes } from 'node:crypto';
import type { LockBackend } from '@oncelock/core';
import { postgresUrl, type RedisCluster, redisUrl, startRedisCluster } from '@oncelock/testkit/servers';
import { afterAll, beforeAll } from 'vitest';
import { pgExec } from '../src/labs/index.js';
import { type BackendSpec, createBackend } from '../src/targets.js';

/** One backend under test: how to make it, and how a second contender gets one. */
export interface Entry {
  readonly name: string;
  /** A fresh backend with its own connections (closed by `closeAll`). */
  create(): LockBackend;
  /** A second contender: a separate backend, except in memory, where there is only one process. */
  peer(first: LockBackend): LockBackend;
}

/**
 * Every backend, for tests that run through the public API on each: memory, Redis (one primary,
 * a Cluster of its own, Redlock over three databases), Postgres (advisory and table mode) and
 * Keyv over Redis. The Cluster starts before the file's tests and stops after them; every
 * backend made is closed.
 */
export function catalogue(file: string): Entry[] {
  const tag = `${file}_${randomBytes(3).toString('hex')}`;
  const made: LockBackend[] = [];
  let cluster: RedisCluster | undefined;
  const schemas = [`rel_${tag}_adv`, `rel_${tag}_tab`];

  beforeAll(async () => {
    cluster = await startRedisCluster({ primaries: 3 });
  });
  afterAll(async () => {
    await Promise.all(made.splice(0).map((b) => b.close().catch(() => {})));
    await cluster?.stop();
    await pgExec(schemas.map((s) => `DROP SCHEMA IF EXISTS "${s}" CASCADE;`).join(' '));
  });

  const entry = (name: string, spec: () => BackendSpec): Entry => ({
    name,
    create() {
      const backend = createBackend(spec());
      made.push(backend);
      return backend;
    },
    peer() {
      return this.create();
    },
  });
  const memory: Entry = {
    name: 'memory',
    create() {
      const backend = createBackend({ kind: 'memory' });
      made.push(backend);
      return backend;
    },
    peer: (first) => first,
  };
  return [
    memory,
    entry('redis', () => ({ kind: 'redis', url: redisUrl, prefix: `rel:${tag}:` })),
    entry('redis-cluster', () => ({
      kind: 'redis-cluster',
      nodes: [...cluster!.nodes],
      prefix: `rel:${tag}:`,
    })),
    // Three databases of one server stand for three primaries: these tests make no faults, and
    // the quorum logic runs the same. (The torture gives Redlock three servers of its own.)
    entry('redlock', () => ({
      kind: 'redlock',
      urls: [1, 2, 3].map((db) => `${redisUrl}/${db}`),
      prefix: `rel:${tag}:`,
    })),
    entry('postgres-advisory', () => ({
      kind: 'postgres',
      mode: 'advisory',
      connectionString: postgresUrl,
      schema: schemas[0]!,
    })),
    entry('postgres-table', () => ({
      kind: 'postgres',
      mode: 'table',
      connectionString: postgresUrl,
      schema: schemas[1]!,
    })),
    entry('keyv', () => ({ kind: 'keyv', redisUrl, prefix: `rel:${tag}:` })),
  ];
}
