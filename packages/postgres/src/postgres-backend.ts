import type { LockBackend } from '@oncelock/core';
import { type AcquireRequest, defineBackend, MAX_LIMIT, type ReleaseRequest } from '@oncelock/core/backend';
import { advisoryMode } from './advisory-mode.js';
import { storablePair } from './batch.js';
import { openDb } from './db.js';
import { Listener } from './listener.js';
import { PKG, type PostgresBackendOptions, type PostgresMode, readPostgresOptions } from './options.js';
import { rateOperations } from './rates.js';
import { readOperations } from './reads.js';
import { channelOf, schemaMigration } from './schema.js';
import { advanceFencesSql } from './sql/fences.js';
import { stateOperations } from './states.js';
import { tableMode } from './table-mode.js';
import { topicOperations } from './topics.js';
import { waitersOf } from './waiters.js';

/**
 * A Postgres backend: the core contract with every optional method, plus `migrate()`. (`subscribe`
 * and `listen` need the LISTEN connection: table mode has them only with its `listen` option.)
 */
export interface PostgresBackend extends LockBackend {
  /** The locking scheme in use, from the `mode` option: `advisory` (default) or `table`. */
  readonly mode: PostgresMode;
  /** The schema holding the fence sequence and lock tables. */
  readonly schema: string;
  extendMany: NonNullable<LockBackend['extendMany']>;
  list: NonNullable<LockBackend['list']>;
  rateLimit: NonNullable<LockBackend['rateLimit']>;
  notify: NonNullable<LockBackend['notify']>;
  saveState: NonNullable<LockBackend['saveState']>;
  loadState: NonNullable<LockBackend['loadState']>;
  deleteState: NonNullable<LockBackend['deleteState']>;
  /** Creates the schema objects now (idempotent). Needed only with `migrate: false`; otherwise first use does it. */
  migrate(): Promise<void>;
}

/**
 * A lock store on PostgreSQL. Pass `{ connectionString }` (the backend makes and ends its own
 * pool) or `{ pool }` (your pg Pool; the backend keeps up to two of its connections for itself,
 * the lock session and the LISTEN connection, and destroys them on `close()`).
 *
 * @param options - Exactly one of `connectionString` or `pool`, and optionally `mode` (default
 *   `advisory`), `schema` (default `oncelock`), `migrate` (default `true`), `listen` (table mode)
 *   and `timeout` (milliseconds per round trip, default 10 000).
 * @example
 * const backend = postgresBackend({ connectionString: process.env.DATABASE_URL });
 * await using l = await lease(backend, 'nightly-report', { ttl: 30_000 });
 */
export function postgresBackend(options: PostgresBackendOptions): PostgresBackend {
  const parsed = readPostgresOptions(options);
  const db = openDb(parsed);
  const channel = channelOf(parsed.schema);
  const { migrate, ready } = schemaMigration(db, parsed.schema, parsed.migrate);
  // Advisory mode listens on a connection like its lock session; table mode only on a direct one it is given.
  const listener =
    parsed.mode === 'advisory'
      ? new Listener(() => db.dedicated(), channel)
      : parsed.listen === undefined
        ? undefined
        : new Listener(() => db.dedicated(parsed.listen), channel);
  const waiters = waitersOf(db, parsed.schema, listener);
  const advanceFences = () => db.rows(advanceFencesSql(parsed.schema)).then(() => {});
  const shared = { db, options: parsed, channel, ready, waiters, advanceFences };
  const mode = parsed.mode === 'table' ? tableMode(shared) : advisoryMode(shared);
  const rates = rateOperations(shared);

  return defineBackend({
    name: mode.name,
    pkg: PKG,
    guarantees: {
      exclusion: 'strict',
      fencing: true,
      deadHolder: mode.deadHolder,
      frozenHolder: 'at-ttl',
      releaseNotifications: listener !== undefined,
      maxLimit: MAX_LIMIT,
    },
    props: { mode: parsed.mode, schema: parsed.schema },
    ops: {
      // Both modes store keys and owners as text, which cannot hold NUL.
      acquire: (request: AcquireRequest) => mode.ops.acquire(storablePair(request)),
      release: (request: ReleaseRequest) => mode.ops.release(storablePair(request)),
      extendMany: mode.ops.extendMany,
      ...readOperations(shared, mode.liveness),
      ...(listener && {
        subscribe: (key: string, fn: () => void, owner?: string) => listener.subscribe(key, fn, owner),
      }),
      ...rates.ops,
      ...topicOperations(shared, listener),
      ...stateOperations(shared, mode.deciding),
      migrate,
    },
    async close() {
      await mode.close();
      await waiters.close();
      await rates.close();
      await listener?.close();
      await db.end();
    },
  });
}
