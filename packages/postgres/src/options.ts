import {
  client,
  duration,
  exactlyOne,
  flag,
  invalid,
  MAX_TTL,
  oneOf,
  type Read,
  readOptions,
  text,
} from '@oncelock/core/backend';
import type pg from 'pg';

/** The package the user installs, named by every error. */
export const PKG = '@oncelock/postgres';

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

// Lower-case identifiers need no quoting; the length leaves room for the NOTIFY channel name.
const SCHEMA = /^[a-z_][a-z0-9_]{0,47}$/;

const connection = text({ rule: '(a PostgreSQL connection string)' });

const spec = {
  connectionString: connection,
  pool: client<pg.Pool>('a pg Pool (an object with connect() and query())', ['connect', 'query']),
  mode: oneOf<PostgresMode>(['advisory', 'table']).default('advisory'),
  schema: text({
    rule: 'of at most 48 lower-case letters, digits and underscores, not starting with a digit',
    test: (s) => SCHEMA.test(s),
  }).default('oncelock'),
  migrate: flag().default(true),
  listen: connection,
  timeout: duration({ min: 100, max: MAX_TTL }).default(10_000),
};

export type ParsedOptions = Read<typeof spec>;

const at = { pkg: PKG, call: 'postgresBackend()' };

/** Checks the options before anything connects; throws `InvalidArgumentError` naming the bad one. */
export function readPostgresOptions(options: unknown): ParsedOptions {
  const parsed = readOptions(options, spec, at, true);
  exactlyOne(parsed, ['connectionString', 'pool'], at);
  if (parsed.listen !== undefined && parsed.mode !== 'table') {
    throw invalid(at, "listen applies to mode 'table' only: advisory mode listens on its own connection");
  }
  return parsed;
}
