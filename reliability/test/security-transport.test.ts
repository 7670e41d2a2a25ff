import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendUnavailableError, type LockBackend, lease } from '@oncelock/core';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend, redlockBackend } from '@oncelock/redis';
import { freePort, postgresUrl, type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadline } from '../src/deadline.js';

// Claim: the TLS and auth settings a user gives reach the client library unchanged, and a
// refused login or certificate is a typed BackendUnavailableError, not a hang. Tested against
// servers started here: Redis with a password, with an ACL user, and with TLS only (a throwaway
// CA made with openssl). The local PostgreSQL trusts every loopback login and has TLS off, so
// only the pass-through of `sslmode` can be shown there (see RELIABILITY.md).

const bound = <T>(p: Promise<T>, what: string) => deadline(p, 15_000, what);

/** Takes and releases one lease: the backend can log in and run its scripts. */
async function works(backend: LockBackend): Promise<void> {
  try {
    const held = await bound(lease(backend, 'transport:probe', { ttl: 5000 }), 'lease');
    expect(await bound(held.release(), 'release')).toBe(true);
  } finally {
    await backend.close();
  }
}

/** A lease attempt is refused with a typed error, promptly. */
async function refused(backend: LockBackend): Promise<BackendUnavailableError> {
  try {
    const error = await bound(lease(backend, 'transport:probe', { ttl: 5000 }), 'lease').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    return error as BackendUnavailableError;
  } finally {
    await backend.close();
  }
}

describe('Redis auth', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({
      args: [
        '--requirepass',
        'door-password',
        // An ACL user with every key, channel and command: what the backend needs, by name.
        '--user',
        'locker',
        'on',
        '>locker-password',
        '~*',
        '&*',
        '+@all',
        // A tenant confined by ACL to its own prefix: keys and channels under `tenant-a:` only.
        '--user',
        'tenant-a',
        'on',
        '>tenant-a-password',
        '~tenant-a:*',
        '&tenant-a:*',
        '+@all',
      ],
    });
  });
  afterAll(() => server?.stop());
  const url = (auth: string) => `redis://${auth}127.0.0.1:${server.port}`;

  it('a password in the URL, or in the ioredis options, logs in', async () => {
    await works(redisBackend({ url: url(':door-password@') }));
    await works(redisBackend({ url: url(''), redis: { password: 'door-password' } }));
  });

  it('an ACL user and password in the URL log in', async () => {
    await works(redisBackend({ url: url('locker:locker-password@') }));
  });

  it('no password, or a wrong one, is a typed error', async () => {
    await refused(redisBackend({ url: url('') }));
    await refused(redisBackend({ url: url(':wrong@') }));
    await refused(redisBackend({ url: url('locker:wrong@') }));
  });

  // Reported to the Redis backend's owner: the error says "Stream isn't writeable and
  // enableOfflineQueue options is false", and neither its message nor its cause says NOAUTH or
  // WRONGPASS, so an operator cannot tell a refused login from an outage.
  it('the error of a refused login says why', async () => {
    const error = await refused(redisBackend({ url: url(':wrong@') }));
    expect(`${error.message} ${String((error.cause as Error)?.message)}`).toMatch(
      /NOAUTH|WRONGPASS|password/i,
    );
  });

  it('an ACL confining a user to its prefix works with that prefix and refuses any other', async () => {
    // Every key and channel of a lock starts with the prefix, so Redis ACLs can enforce tenancy.
    await works(redisBackend({ url: url('tenant-a:tenant-a-password@'), prefix: 'tenant-a:' }));
    const error = await refused(
      redisBackend({ url: url('tenant-a:tenant-a-password@'), prefix: 'tenant-b:' }),
    );
    expect(error.message).toMatch(/NOPERM|no permissions/i);
  });

  it('Redlock passes each node’s credentials through too', async () => {
    const good = url(':door-password@');
    // Three URLs to one server stand for three nodes here: only the login is under test.
    const urls = [good, `${good}/1`, `${good}/2`];
    await works(redlockBackend({ urls }));
    await refused(redlockBackend({ urls: urls.map((u) => u.replace('door-password', 'wrong')) }));
  });
});

describe('Redis TLS', () => {
  let dir: string;
  let server: RedisServer;
  let port: number;
  let ca: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oncelock-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=oncelock test CA',
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    );
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    );
    ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    port = await freePort();
    // TLS only: the plain port is turned off, so nothing can pass without a handshake.
    server = await startRedisServer({
      args: [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        join(dir, 'server.crt'),
        '--tls-key-file',
        join(dir, 'server.key'),
        '--tls-ca-cert-file',
        join(dir, 'ca.crt'),
        '--tls-auth-clients',
        'no',
      ],
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rediss:// with the server’s CA given through the ioredis options connects', async () => {
    await works(redisBackend({ url: `rediss://127.0.0.1:${port}`, redis: { tls: { ca } } }));
  });

  it('a certificate nobody vouched for is refused: verification is on unless the user turns it off', async () => {
    await refused(redisBackend({ url: `rediss://127.0.0.1:${port}` }));
    // The same server and options with verification turned off by the user: it was the certificate.
    await works(
      redisBackend({ url: `rediss://127.0.0.1:${port}`, redis: { tls: { rejectUnauthorized: false } } }),
    );
  });

  it('plain redis:// to a TLS-only port is a typed error, not a hang', async () => {
    await refused(redisBackend({ url: `redis://127.0.0.1:${port}` }));
  });
});

describe('Postgres TLS settings', () => {
  it('sslmode=verify-full reaches the driver: this server has TLS off, so the login is refused', async () => {
    const url = new URL(postgresUrl);
    url.searchParams.set('sslmode', 'verify-full');
    const error = await refused(
      postgresBackend({ connectionString: url.toString(), schema: 'rel_tls_probe', timeout: 3000 }),
    );
    expect(String((error.cause as Error)?.message ?? error.message)).toMatch(/SSL|TLS/i);
  });
});
