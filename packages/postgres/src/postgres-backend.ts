import { advisoryBackend } from './advisory.js';
import type { PostgresBackend } from './base.js';
import { type PostgresBackendOptions, parseOptions } from './options.js';
import { tableBackend } from './table.js';

/**
 * A lock store on PostgreSQL. Pass `{ connectionString }` (the backend makes and ends its own
 * pool) or `{ pool }` (your pg Pool; the backend keeps up to two of its connections for itself,
 * the lock session and the LISTEN connection, and destroys them on `close()`).
 *
 * @example
 * const backend = postgresBackend({ connectionString: process.env.DATABASE_URL });
 * await using l = await lease(backend, 'nightly-report', { ttl: 30_000 });
 */
export function postgresBackend(options: PostgresBackendOptions): PostgresBackend {
  const parsed = parseOptions(options);
  return parsed.mode === 'table' ? tableBackend(parsed) : advisoryBackend(parsed);
}
