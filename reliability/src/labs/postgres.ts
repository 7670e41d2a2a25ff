import { randomBytes } from 'node:crypto';
import { postgresBackend } from '@oncelock/postgres';
import { terminatePgBackends } from '@oncelock/testkit/faults';
import { postgresUrl, startPgbouncer } from '@oncelock/testkit/servers';
import pg from 'pg';
import { counterTablesSql } from '../counter/index.js';
import type { BackendSpec } from '../targets.js';
import { cleanup, type Lab, proxiesFor } from './lab.js';

/** One statement on a connection of the lab's own. */
export async function pgExec(text: string, values?: unknown[]): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl, application_name: 'oncelock-reliability' });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end().catch(() => {});
  }
}

/** `url` with its host and port pointed elsewhere and a client name the server can filter on. */
function named(url: string, app: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', app);
  return u.toString();
}

/**
 * Postgres in advisory mode (direct connections) or in table mode behind PgBouncer in transaction
 * mode ("pooler mode"). Locks and counters live in schemas of the lab's own, dropped by `stop()`.
 * The server fault terminates one worker's lock sessions by their application name.
 */
export async function postgresLab(
  kind: 'postgres-advisory' | 'postgres-pooler',
  workers: number,
  keys: readonly string[],
): Promise<Lab> {
  const tag = randomBytes(4).toString('hex');
  const schema = `rel_locks_${tag}`;
  const counterSchema = `rel_counters_${tag}`;
  const pooled = kind === 'postgres-pooler';
  const bouncer = pooled ? await startPgbouncer({ poolMode: 'transaction', poolSize: 6 }) : undefined;
  const lockUrl = bouncer?.url ?? postgresUrl;
  const mode = pooled ? 'table' : 'advisory';
  const spec = (connectionString: string, listen?: string): BackendSpec => ({
    kind: 'postgres',
    mode,
    connectionString,
    schema,
    listen,
    timeout: 1000,
  });

  // Schema objects first, from one place: the torture is about locking, not about migrations.
  const setup = postgresBackend({ connectionString: postgresUrl, schema, mode });
  const guarantees = setup.guarantees;
  await setup.migrate().finally(() => setup.close());
  await pgExec(counterTablesSql(counterSchema));
  await pgExec(`INSERT INTO "${counterSchema}".counters (key) SELECT unnest($1::text[])`, [keys]);

  const pgPort = Number(new URL(postgresUrl).port || 5432);
  const lockPort = Number(new URL(lockUrl).port);
  // Each slot: its lock connection, (pooler mode) a direct one for LISTEN, and its counter's.
  const proxies = await proxiesFor(workers, pooled ? [lockPort, pgPort, pgPort] : [lockPort, pgPort]);
  const app = (slot: number) => `oncelock-rel-${tag}-s${slot}`;
  return {
    kind,
    guarantees,
    slots: proxies.map((ps, slot) => ({
      proxies: ps,
      backend: spec(
        named(ps[0]!.url(lockUrl), app(slot)),
        pooled ? named(ps[1]!.url(postgresUrl), app(slot)) : undefined,
      ),
      counter: { kind: 'postgres', connectionString: ps.at(-1)!.url(postgresUrl), schema: counterSchema },
    })),
    direct: {
      backend: spec(lockUrl, pooled ? postgresUrl : undefined),
      counter: { kind: 'postgres', connectionString: postgresUrl, schema: counterSchema },
    },
    serverFaults: {
      // Behind PgBouncer this ends a pooled server connection that carries the slot's name.
      'terminate-session': async (slot) =>
        (await terminatePgBackends({ connectionString: postgresUrl, applicationName: app(slot) })).length > 0,
    },
    stop: () =>
      cleanup([
        ...proxies.flat().map((p) => () => p.close()),
        () => bouncer?.stop(),
        () =>
          pgExec(
            `DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${counterSchema}" CASCADE`,
          ),
      ]),
  };
}
