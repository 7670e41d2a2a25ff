import { CapabilityUnsupportedError } from '@oncelock/core';
import { startTcpProxy, type TcpProxy } from '@oncelock/testkit/faults';
import { type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import pg from 'pg';
import type { BackendKind, BackendSpec, StoreSpec } from './protocol.js';
import { PKG } from './where.js';

/**
 * The servers one backend runs against, and a way to give each worker its own proxies in front
 * of them, so that a fault can be aimed at one worker's connections. Redis servers are our own,
 * on free ports (a restart must never touch a shared server); Postgres is the shared one, in a
 * schema of our own.
 */
export interface LabEnv {
  readonly kind: BackendKind;
  /** The backend's fences strictly increase: the store can reject stale writes. */
  readonly fenced: boolean;
  readonly store: StoreSpec;
  /** Which faults make sense here (a Postgres restart would hit every other user of the server). */
  readonly canRestart: boolean;
  /** Proxies for one worker, and the backend spec that goes through them. */
  connect(): Promise<{ spec: BackendSpec; proxies: TcpProxy[] }>;
  /** Kills and restarts the Redis server (for Redlock, one node of three): every key it had is gone. */
  restart(): Promise<void>;
  /** Clears the lock and the resource between runs. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

const proxyTo = (port: number) => startTcpProxy({ targetPort: port });

async function redisEnv(kind: 'redis' | 'keyv' | 'redlock'): Promise<LabEnv> {
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < (kind === 'redlock' ? 3 : 1); i++) servers.push(await startRedisServer());
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  return {
    kind,
    fenced: kind === 'redis',
    store: { kind: 'parent' },
    canRestart: true,
    async connect() {
      const proxies = await Promise.all(servers.map((s) => proxyTo(s.port)));
      const urls = proxies.map((p) => p.url('redis'));
      const spec: BackendSpec = kind === 'redlock' ? { kind, urls } : { kind, url: urls[0]! };
      return { spec, proxies };
    },
    async restart() {
      await servers[0]!.restart();
    },
    async reset() {
      // A fresh server per run is the simplest clean slate, and costs a few ms.
      for (const s of servers) await s.restart();
    },
    async close() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

async function postgresEnv(url: string): Promise<LabEnv> {
  const schema = `lab_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const table = `${schema}.resource`;
  const sql = async (text: string, values: unknown[] = []) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(text, values);
    } finally {
      await c.end();
    }
  };
  // The backend's own objects (fence sequence, locks table) go in the same schema: created here
  // once, so that three workers starting together do not race to create them.
  await sql(`CREATE SCHEMA ${schema}`);
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, value text, fence bigint)`);
  const { postgresBackend } = await import('@oncelock/postgres');
  const setup = postgresBackend({ connectionString: url, schema });
  await setup.migrate();
  await setup.close();
  const port = Number(new URL(url).port || 5432);
  return {
    kind: 'postgres',
    fenced: true,
    store: { kind: 'postgres', url, table },
    canRestart: false,
    async connect() {
      const proxy = await proxyTo(port);
      return { spec: { kind: 'postgres', url: proxy.url(url), schema }, proxies: [proxy] };
    },
    async restart() {
      throw new CapabilityUnsupportedError('the lab never restarts the shared PostgreSQL server', {
        pkg: PKG,
      });
    },
    async reset(key) {
      await sql(`DELETE FROM ${schema}.locks`).catch(() => {});
      await sql(
        `INSERT INTO ${table} (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET value = NULL, fence = NULL`,
        [key],
      );
    },
    async close() {
      await sql(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

export function startEnv(kind: BackendKind, postgresUrl: string): Promise<LabEnv> {
  return kind === 'postgres' ? postgresEnv(postgresUrl) : redisEnv(kind);
}
