import { randomBytes } from 'node:crypto';
import { postgresBackend } from '@oncelock/postgres';
import { killRedisClients, terminatePgBackends } from '@oncelock/testkit/faults';
import { postgresUrl, startRedisServer } from '@oncelock/testkit/servers';
import { type CounterSpec, counterTablesSql } from '../counter/index.js';
import { cleanup } from '../labs/lab.js';
import { pgExec } from '../labs/postgres.js';
import type { BackendSpec } from '../targets.js';

/** The stores the loop tortures run on. */
export const loopLabKinds = ['redis', 'postgres'] as const;
export type LoopLabKind = (typeof loopLabKinds)[number];

/**
 * The stores of one loop torture: the lock store (the backend every process builds) and a
 * fenced counter in a store of its own. No proxies: the faults are the process's own (SIGKILL,
 * SIGSTOP) and a real dropped connection, made by the server (`cut`).
 */
export interface LoopLab {
  readonly kind: LoopLabKind;
  /** The lock store and counter of the process called `name`; its lock connections carry that name. */
  spec(name: string): { backend: BackendSpec; counter: CounterSpec };
  /** The same stores under the lab's own name, for the parent's wake-ups and the checks. */
  readonly direct: { backend: BackendSpec; counter: CounterSpec };
  /**
   * Drops every lock-store connection of the process called `name`, server side: CLIENT KILL on
   * Redis, pg_terminate_backend on PostgreSQL. Resolves with how many were dropped.
   */
  cut(name: string): Promise<number>;
  /** A PostgreSQL URL for data of the lab's own (the iterate torture's rows), in `dataSchema`. */
  readonly postgresUrl: string;
  readonly dataSchema: string;
  stop(): Promise<void>;
}

const TIMEOUT = 1000;

/** Opens the lab: private Redis servers, or schemas of its own on the shared PostgreSQL. */
export async function openLoopLab(kind: LoopLabKind): Promise<LoopLab> {
  const tag = randomBytes(4).toString('hex');
  const dataSchema = `rel_loopdata_${tag}`;
  const counterSchema = `rel_loopcount_${tag}`;
  await pgExec(`${counterTablesSql(counterSchema)} CREATE SCHEMA IF NOT EXISTS "${dataSchema}";`);
  await pgExec(`INSERT INTO "${counterSchema}".counters (key) VALUES ('loop')`);
  const dropSchemas = () =>
    pgExec(`DROP SCHEMA IF EXISTS "${dataSchema}" CASCADE; DROP SCHEMA IF EXISTS "${counterSchema}" CASCADE`);
  const common = { postgresUrl, dataSchema };
  if (kind === 'redis') {
    // Locks on one private server, the counter on another: a CLIENT KILL on the lock server
    // cuts a process off from its lock store only.
    const [locks, counters] = await Promise.all([startRedisServer(), startRedisServer()]);
    const backend = (name: string): BackendSpec => ({
      kind: 'redis',
      url: locks.url,
      timeout: TIMEOUT,
      clientName: `loop-${name}`,
    });
    return {
      kind,
      ...common,
      spec: (name) => ({ backend: backend(name), counter: { kind: 'redis', url: counters.url } }),
      direct: { backend: backend('lab'), counter: { kind: 'redis', url: counters.url } },
      cut: async (name) => (await killRedisClients(locks.port, { name: `loop-${name}` })).length,
      stop: () => cleanup([locks.stop, counters.stop, dropSchemas]),
    };
  }
  const schema = `rel_looplocks_${tag}`;
  const setup = postgresBackend({ connectionString: postgresUrl, schema });
  await setup.migrate().finally(() => setup.close());
  // The lock connections carry an application name of their own; the counter's do not.
  const app = (name: string) => `oncelock-loop-${tag}-${name}`;
  const named = (name: string) => {
    const u = new URL(postgresUrl);
    u.searchParams.set('application_name', app(name));
    return u.toString();
  };
  const backend = (name: string): BackendSpec => ({
    kind: 'postgres',
    mode: 'advisory',
    connectionString: named(name),
    schema,
    timeout: TIMEOUT,
  });
  const counter: CounterSpec = { kind: 'postgres', connectionString: postgresUrl, schema: counterSchema };
  return {
    kind,
    ...common,
    spec: (name) => ({ backend: backend(name), counter }),
    direct: { backend: backend('lab'), counter },
    cut: async (name) =>
      (await terminatePgBackends({ connectionString: postgresUrl, applicationName: app(name) })).length,
    stop: () => cleanup([dropSchemas, () => pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)]),
  };
}
