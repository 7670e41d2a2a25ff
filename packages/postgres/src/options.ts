import { InvalidArgumentError, MAX_TTL } from '@oncelock/core';
import type pg from 'pg';

/** Which locking scheme the backend uses; see the README for when to pick which. */
export type PostgresMode = 'advisory' | 'table';

interface CommonOptions {
  /**
   * `advisory` (default): session advisory locks on one dedicated connection; a dead holder's
   * locks end with its session. `table`: a lease table whose expiry the database clock decides;
   * every operation is one autocommit statement, so it works behind a transaction pooler.
   */
  mode?: PostgresMode;
  /** Schema that holds the fence sequence and lock tables. Default `oncelock`. */
  schema?: string;
  /** Create the schema objects on first use (default `true`). With `false`, call `migrate()` or run `migrationSql()`. */
  migrate?: boolean;
  /**
   * Table mode only: a connection string that reaches PostgreSQL directly (not through a
   * transaction pooler), for the LISTEN connection that wakes waiters on release. Without it,
   * table mode has no release notifications and waiters poll.
   */
  listen?: string;
  /** Milliseconds any one round trip may take before it fails (and, on the lock connection, ends it). Default 10,000. */
  timeout?: number;
}

/** Options of {@link postgresBackend}: a connection string or a pool, the mode, and the schema. */
export type PostgresBackendOptions =
  | (CommonOptions & { connectionString: string; pool?: undefined })
  | (CommonOptions & { pool: pg.Pool; connectionString?: undefined });

export interface ParsedOptions {
  mode: PostgresMode;
  schema: string;
  migrate: boolean;
  listen: string | undefined;
  timeout: number;
  connectionString: string | undefined;
  pool: pg.Pool | undefined;
}

const PKG = '@oncelock/postgres';
// Lower-case identifiers need no quoting; the length leaves room for the NOTIFY channel name.
const SCHEMA = /^[a-z_][a-z0-9_]{0,47}$/;

function fail(message: string): never {
  throw new InvalidArgumentError(message, { pkg: PKG });
}

export function parseOptions(options: unknown): ParsedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail('postgresBackend needs an options object: { connectionString } or { pool }');
  }
  const o = options as Record<string, unknown>;
  const hasUrl = o.connectionString !== undefined;
  const hasPool = o.pool !== undefined;
  if (hasUrl === hasPool) fail('pass exactly one of connectionString and pool');
  if (hasUrl && (typeof o.connectionString !== 'string' || o.connectionString.length === 0)) {
    fail('connectionString must be a non-empty string');
  }
  const pool = o.pool as Record<string, unknown> | undefined;
  if (
    hasPool &&
    (typeof pool !== 'object' ||
      pool === null ||
      typeof pool.connect !== 'function' ||
      typeof pool.query !== 'function')
  ) {
    fail('pool must be a pg Pool (an object with connect() and query())');
  }
  const mode = o.mode ?? 'advisory';
  if (mode !== 'advisory' && mode !== 'table')
    fail(`mode must be 'advisory' or 'table', got ${String(mode)}`);
  const schema = o.schema ?? 'oncelock';
  if (typeof schema !== 'string' || !SCHEMA.test(schema)) {
    fail('schema must be a lower-case identifier of at most 48 characters (letters, digits, underscores)');
  }
  const migrate = o.migrate ?? true;
  if (typeof migrate !== 'boolean') fail('migrate must be a boolean');
  if (o.listen !== undefined && (typeof o.listen !== 'string' || o.listen.length === 0))
    fail('listen must be a non-empty connection string');
  if (o.listen !== undefined && mode !== 'table')
    fail("listen applies to mode 'table' only: advisory mode listens on its own connection");
  const timeout = o.timeout ?? 10_000;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 100 || timeout > MAX_TTL) {
    fail(`timeout must be a whole number of milliseconds from 100 to ${MAX_TTL}`);
  }
  return {
    mode,
    schema,
    migrate,
    listen: o.listen as string | undefined,
    timeout,
    connectionString: o.connectionString as string | undefined,
    pool: o.pool as pg.Pool | undefined,
  };
}
