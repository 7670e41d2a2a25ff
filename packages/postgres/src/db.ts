import { within } from '@oncelock/core/backend';
import pg from 'pg';
import type { ParsedOptions } from './options.js';

/** A connection of the backend's own: never handed back to a pool, destroyed when done. */
export interface Dedicated {
  readonly client: pg.ClientBase;
  /** Closes the connection, ending its session (and every advisory lock it holds). Never throws. */
  destroy(): void;
}

/**
 * The few things the backends need from PostgreSQL. Each round trip is bounded by the
 * `timeout` option; a store error is left as it is, for the backend kit to wrap with the
 * operation's name.
 */
export interface Db {
  /** One autocommit statement on any pooled connection. */
  rows<R>(text: string, values?: unknown[]): Promise<R[]>;
  /** Opens a dedicated connection: from `url` when given, else from the pool or connection string. */
  dedicated(url?: string): Promise<Dedicated>;
  /** Ends the pool if the backend made it; a user's pool is left open. */
  end(): Promise<void>;
}

/**
 * A connection that could not be made says so first, "cannot reach PostgreSQL at
 * 127.0.0.1:5432 (ECONNREFUSED)", with pg's error as the cause; any other error is left as it is.
 */
function unreachable(error: unknown): never {
  // 'localhost' tries each address it resolves to, and fails with all their errors.
  const first = error instanceof AggregateError ? error.errors[0] : error;
  const e = first as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.syscall !== 'connect' || typeof e.code !== 'string') throw error;
  const where = e.port === undefined ? e.address : `${e.address}:${e.port}`;
  throw new Error(`cannot reach PostgreSQL at ${where} (${e.code})`, { cause: error });
}

export function openDb(options: ParsedOptions): Db {
  const ownPool = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: 4,
      connectionTimeoutMillis: options.timeout,
      keepAlive: true,
      application_name: 'oncelock',
    });
  // An idle pooled connection that the server ends must not crash the process.
  if (ownPool) pool.on('error', () => {});

  async function fromUrl(url: string): Promise<Dedicated> {
    const client = new pg.Client({
      connectionString: url,
      keepAlive: true,
      connectionTimeoutMillis: options.timeout,
      application_name: 'oncelock',
    });
    client.on('error', () => {});
    await client.connect();
    return { client, destroy: () => void client.end().catch(() => {}) };
  }

  async function fromPool(): Promise<Dedicated> {
    const client = await pool.connect();
    client.on('error', () => {});
    // `true` destroys the connection instead of returning it: its session state is ours alone.
    return { client, destroy: () => client.release(true) };
  }

  return {
    async rows<R>(text: string, values?: unknown[]): Promise<R[]> {
      return (await within(pool.query(text, values), options.timeout).catch(unreachable)).rows as R[];
    },
    dedicated(url?: string): Promise<Dedicated> {
      const target = url ?? (ownPool ? options.connectionString : undefined);
      const opening = (target === undefined ? fromPool() : fromUrl(target)).catch(unreachable);
      // A connection that opens after we gave up on it is closed, not leaked.
      return within(opening, options.timeout, () => {
        opening.then(
          (d) => d.destroy(),
          () => {},
        );
      });
    },
    async end(): Promise<void> {
      if (ownPool) await pool.end().catch(() => {});
    },
  };
}
