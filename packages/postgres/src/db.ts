import { BackendUnavailableError, OncelockError } from '@oncelock/core';
import pg from 'pg';
import type { ParsedOptions } from './options.js';

export const PKG = '@oncelock/postgres';

/** Package and backend name, for every error message. */
export interface Where {
  readonly backend: string;
  readonly pkg: string;
}

/** A connection of the backend's own: never handed back to a pool, destroyed when done. */
export interface Dedicated {
  readonly client: pg.ClientBase;
  /** Closes the connection, ending its session (and every advisory lock it holds). Never throws. */
  destroy(): void;
}

/** The few things the backends need from PostgreSQL. */
export interface Db {
  readonly where: Where;
  /** One autocommit statement on any pooled connection. */
  rows<R>(what: string, text: string, values?: unknown[]): Promise<R[]>;
  /** Opens a dedicated connection: from `url` when given, else from the pool or connection string. */
  dedicated(url?: string): Promise<Dedicated>;
  /** Ends the pool if the backend made it; a user's pool is left open. */
  end(): Promise<void>;
}

/** A store error as core's typed error; an oncelock error passes through unchanged. */
export function unavailable(where: Where, what: string, error: unknown): OncelockError {
  if (error instanceof OncelockError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendUnavailableError(`${what} failed: ${message}`, { ...where, cause: error });
}

/** Rejects with `BackendUnavailableError` if `work` takes longer than `ms`; calls `onTimeout` first. */
export function withTimeout<T>(
  where: Where,
  what: string,
  ms: number,
  work: Promise<T>,
  onTimeout?: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new BackendUnavailableError(`${what} got no answer within ${ms} ms`, where));
    }, ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function openDb(options: ParsedOptions, where: Where): Db {
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
    where,
    async rows<R>(what: string, text: string, values?: unknown[]): Promise<R[]> {
      try {
        const result = await withTimeout(where, what, options.timeout, pool.query(text, values));
        return result.rows as R[];
      } catch (error) {
        throw unavailable(where, what, error);
      }
    },
    async dedicated(url?: string): Promise<Dedicated> {
      const target = url ?? (ownPool ? options.connectionString : undefined);
      const opening = target === undefined ? fromPool() : fromUrl(target);
      try {
        return await withTimeout(where, 'connect', options.timeout, opening, () => {
          opening.then(
            (d) => d.destroy(),
            () => {},
          );
        });
      } catch (error) {
        throw unavailable(where, 'connect', error);
      }
    },
    async end(): Promise<void> {
      if (ownPool) await pool.end().catch(() => {});
    },
  };
}
