import { BackendUnavailableError, InvalidArgumentError } from '@oncelock/core';
import { checkLoopbackHost, PKG } from './loopback.js';

export interface TerminatePgBackendsOptions {
  /** Where to connect from; loopback servers only. */
  connectionString: string;
  /** Terminate the sessions whose `application_name` is this. */
  applicationName?: string;
  /** Terminate the session with this backend pid. */
  pid?: number;
}

/**
 * Ends other sessions with `pg_terminate_backend`, from a separate connection: their clients see
 * the connection die and their session-level locks are released, as when a server drops a client.
 * Give `applicationName`, `pid`, or both (both must match). Resolves with the pids terminated.
 */
export async function terminatePgBackends(options: TerminatePgBackendsOptions): Promise<number[]> {
  const { connectionString, applicationName, pid } = options ?? {};
  if (typeof connectionString !== 'string') {
    throw new InvalidArgumentError('connectionString must be a postgres:// URL', { pkg: PKG });
  }
  checkLoopbackHost(hostOf(connectionString), 'connectionString host');
  if (applicationName === undefined && pid === undefined) {
    // Without a filter this would end every session on the server, other tests' included.
    throw new InvalidArgumentError('give applicationName or pid: which sessions to terminate', { pkg: PKG });
  }
  if (applicationName !== undefined && (typeof applicationName !== 'string' || applicationName === '')) {
    throw new InvalidArgumentError('applicationName must be a non-empty string', { pkg: PKG });
  }
  if (pid !== undefined && (!Number.isInteger(pid) || pid <= 0)) {
    throw new InvalidArgumentError(`pid must be a positive integer, got ${pid}`, { pkg: PKG });
  }

  // pg is an optional peer: loaded only by tests that use this helper.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString, application_name: 'oncelock-testkit-terminator' });
  client.on('error', () => {}); // an error after connect surfaces through the query below
  try {
    await client.connect();
    // In the select list, not the WHERE clause: Postgres may evaluate WHERE terms in any order,
    // and this call must only ever see rows that passed the filter.
    const { rows } = await client.query<{ pid: number; terminated: boolean }>(
      `SELECT pid, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
        WHERE pid <> pg_backend_pid()
          AND ($1::text IS NULL OR application_name = $1)
          AND ($2::int IS NULL OR pid = $2)`,
      [applicationName ?? null, pid ?? null],
    );
    return rows.filter((row) => row.terminated).map((row) => row.pid);
  } catch (error) {
    throw new BackendUnavailableError('could not terminate Postgres sessions', {
      pkg: PKG,
      backend: 'postgres',
      cause: error,
    });
  } finally {
    await client.end().catch(() => {});
  }
}

/** The host a connection string points at; no host means the local Unix socket. */
function hostOf(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new InvalidArgumentError('connectionString must be a postgres:// URL', { pkg: PKG });
  }
  const socket = url.searchParams.get('host');
  if (socket) return socket;
  return url.hostname === '' ? 'localhost' : url.hostname.replace(/^\[|\]$/g, '');
}
