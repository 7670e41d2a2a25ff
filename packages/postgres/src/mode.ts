import { BackendClosedError, type Guarantees, type LockBackend } from '@oncelock/core';
import { type Db, openDb, PKG, type Where } from './db.js';
import { Listener } from './listener.js';
import type { ParsedOptions, PostgresMode } from './options.js';
import { channelOf, migrationSql } from './schema.js';

/** A Postgres backend: the core contract with every optional method, plus `migrate()`. */
export interface PostgresBackend extends LockBackend {
  readonly mode: PostgresMode;
  /** The schema holding the fence sequence and lock tables. */
  readonly schema: string;
  extendMany: NonNullable<LockBackend['extendMany']>;
  list: NonNullable<LockBackend['list']>;
  /** Creates the schema objects now (idempotent). Needed only with `migrate: false`; otherwise first use does it. */
  migrate(): Promise<void>;
}

/** What both modes share: the pool, schema creation, the LISTEN connection, the closed flag. */
export interface Base {
  readonly db: Db;
  readonly where: Where;
  readonly options: ParsedOptions;
  readonly channel: string;
  readonly listener: Listener | undefined;
  readonly closed: boolean;
  /** Throws `BackendClosedError` once `close()` has begun. */
  ensureOpen(): void;
  /** Resolves once the schema exists (created on first use unless `migrate: false`). */
  ready(): Promise<void>;
  migrate(): Promise<void>;
  /** Marks the backend closed; `finish()` then ends the LISTEN connection and our own pool. */
  markClosed(): boolean;
  finish(): Promise<void>;
  /** The fields every backend object starts with. */
  describe(
    guarantees: Guarantees,
  ): Pick<PostgresBackend, 'name' | 'pkg' | 'guarantees' | 'mode' | 'schema' | 'migrate'>;
}

export function makeBase(options: ParsedOptions, name: string, listenUrl: string | undefined | false): Base {
  const where: Where = { backend: name, pkg: PKG };
  const db = openDb(options, where);
  const channel = channelOf(options.schema);
  const listener = listenUrl === false ? undefined : new Listener(() => db.dedicated(listenUrl), channel);
  let closed = false;
  let migrating: Promise<void> | undefined;

  const migrate = (): Promise<void> => {
    migrating ??= db.rows('migrate', migrationSql(options.schema)).then(
      () => {},
      (error) => {
        migrating = undefined;
        throw error;
      },
    );
    return migrating;
  };

  return {
    db,
    where,
    options,
    channel,
    listener,
    get closed() {
      return closed;
    },
    ensureOpen() {
      if (closed) throw new BackendClosedError(where);
    },
    ready: () => (options.migrate || migrating ? migrate() : Promise.resolve()),
    migrate,
    markClosed() {
      const first = !closed;
      closed = true;
      return first;
    },
    async finish() {
      await listener?.close();
      await db.end();
    },
    describe(guarantees) {
      return {
        name,
        pkg: PKG,
        guarantees,
        mode: options.mode,
        schema: options.schema,
        migrate: async () => {
          if (closed) throw new BackendClosedError(where);
          await migrate();
        },
      };
    },
  };
}
