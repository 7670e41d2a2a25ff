import { randomUUID } from 'node:crypto';
import { BackendUnavailableError, InvalidArgumentError } from '@oncelock/core';
import { terminatePgBackends } from '@oncelock/testkit/faults';
import { freePort, postgresUrl } from '@oncelock/testkit/servers';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

const connectionString = postgresUrl;

describe('terminatePgBackends', () => {
  const clients: pg.Client[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  });

  /** A session with its own application_name; resolves with it, its pid, and its first error. */
  async function session() {
    const applicationName = `oncelock-${randomUUID()}`;
    const client = new pg.Client({ connectionString, application_name: applicationName });
    clients.push(client);
    // pg emits the server's FATAL, then "Connection terminated unexpectedly": keep the first.
    const failed = new Promise<Error & { code?: string }>((resolve) => client.on('error', resolve));
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return { client, applicationName, pid: rows[0]!.pid, failed };
  }

  it('terminates the sessions with an application_name, and only those', async () => {
    const doomed = await session();
    const bystander = await session();
    expect(await terminatePgBackends({ connectionString, applicationName: doomed.applicationName })).toEqual([
      doomed.pid,
    ]);
    expect((await doomed.failed).code).toBe('57P01'); // admin_shutdown
    await expect(doomed.client.query('SELECT 1')).rejects.toThrow();
    expect((await bystander.client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('terminates a session by pid; a filter that matches nothing terminates nothing', async () => {
    const doomed = await session();
    expect(
      await terminatePgBackends({ connectionString, pid: doomed.pid, applicationName: 'someone-else' }),
    ).toEqual([]);
    expect(await terminatePgBackends({ connectionString, pid: doomed.pid })).toEqual([doomed.pid]);
    expect((await doomed.failed).code).toBe('57P01');
  });

  it('refuses bad input with InvalidArgumentError before connecting', async () => {
    await expect(terminatePgBackends({ connectionString })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(terminatePgBackends({ connectionString, pid: -3 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(terminatePgBackends({ connectionString, applicationName: '' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      terminatePgBackends({ connectionString: 'postgres://postgres@10.1.2.3/test', pid: 1 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(terminatePgBackends({ connectionString: 'not a url', pid: 1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('rejects with BackendUnavailableError when no server answers', async () => {
    const port = await freePort();
    const nowhere = `postgres://postgres@127.0.0.1:${port}/test`;
    await expect(terminatePgBackends({ connectionString: nowhere, pid: 1 })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });
});
