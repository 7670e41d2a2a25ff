import { MAX_LIMIT } from '@oncelock/core/backend';
import {
  ADVISORY_LOCK_ID_VERSION,
  advisoryLockId,
  BackendUnavailableError,
  InvalidArgumentError,
  lease,
  postgresBackend,
} from '@oncelock/postgres';
import { freePort, postgresUrl } from '@oncelock/testkit/servers';
import pg from 'pg';
import { describe, expect, it } from 'vitest';

describe('postgresBackend options', () => {
  it('refuses bad options with InvalidArgumentError, before connecting', () => {
    const pool = new pg.Pool({ connectionString: postgresUrl });
    const bad: unknown[] = [
      undefined,
      null,
      'postgres://x',
      {},
      { connectionString: postgresUrl, pool },
      { connectionString: '' },
      { connectionString: 42 },
      { pool: {} },
      { connectionString: postgresUrl, mode: 'session' },
      { connectionString: postgresUrl, schema: 'Has-Dash' },
      { connectionString: postgresUrl, schema: 'UPPER' },
      { connectionString: postgresUrl, schema: 'x'.repeat(49) },
      { connectionString: postgresUrl, schema: '' },
      { connectionString: postgresUrl, migrate: 'yes' },
      { connectionString: postgresUrl, timeout: 5 },
      { connectionString: postgresUrl, timeout: 1.5 },
      { connectionString: postgresUrl, listen: postgresUrl }, // advisory mode listens on its own connection
      { connectionString: postgresUrl, mode: 'table', listen: '' },
      { connectionString: postgresUrl, shema: 'billing' }, // a typo is refused, not ignored
    ];
    for (const options of bad) expect(() => postgresBackend(options as never)).toThrow(InvalidArgumentError);
    expect(pool.totalCount).toBe(0);
    return pool.end();
  });

  it('names the package, the call and the option, and suggests the option a typo meant', () => {
    const refusal = (options: unknown) => {
      try {
        postgresBackend(options as never);
      } catch (error) {
        return error as InvalidArgumentError;
      }
      throw new Error('accepted');
    };
    expect(refusal({ connectionString: postgresUrl, shema: 'billing' }).message).toMatch(
      /^\[@oncelock\/postgres\] postgresBackend\(\): unknown option "shema": did you mean "schema"\?/,
    );
    expect(refusal({ connectionString: postgresUrl, timeout: 5 }).message).toContain(
      'timeout must be a duration: a whole number of milliseconds from 100 to',
    );
    expect(refusal({}).message).toContain('needs one of connectionString or pool');
  });

  it('declares what each mode guarantees', async () => {
    const advisory = postgresBackend({ connectionString: postgresUrl });
    const table = postgresBackend({ connectionString: postgresUrl, mode: 'table' });
    const tableListening = postgresBackend({
      connectionString: postgresUrl,
      mode: 'table',
      listen: postgresUrl,
    });
    expect(advisory.guarantees).toEqual({
      exclusion: 'strict',
      fencing: true,
      deadHolder: 'with-session',
      frozenHolder: 'at-ttl',
      releaseNotifications: true,
      maxLimit: MAX_LIMIT,
    });
    expect(table.guarantees).toMatchObject({
      deadHolder: 'at-ttl',
      frozenHolder: 'at-ttl',
      releaseNotifications: false,
      maxLimit: MAX_LIMIT,
    });
    expect(table.subscribe).toBeUndefined();
    expect(tableListening.guarantees.releaseNotifications).toBe(true);
    expect([advisory.name, table.name, advisory.schema]).toEqual(['postgres', 'postgres-table', 'oncelock']);
    await Promise.all([advisory.close(), table.close(), tableListening.close()]);
  });
});

describe('nothing listening', () => {
  it.each(['table', 'advisory'] as const)(
    '%s mode: the first lease says it cannot reach PostgreSQL, with pg’s error as cause',
    async (mode) => {
      const port = await freePort();
      const b = postgresBackend({
        connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
        mode,
        timeout: 1000,
      });
      const error = await lease(b, 'down', { ttl: 1000 }).catch((e: unknown) => e);
      await b.close();
      expect(error).toBeInstanceOf(BackendUnavailableError);
      // The cause first, where a person reads: not "migrate failed" nor pg's "connect ECONNREFUSED".
      expect((error as Error).message).toMatch(
        new RegExp(
          `^\\[@oncelock/postgres postgres(-table)?\\] acquire failed: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`,
        ),
      );
      expect(((error as Error).cause as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    },
  );
});

describe('advisoryLockId', () => {
  it('is pinned: version v1 gives these ids, now and in every later release', () => {
    expect(ADVISORY_LOCK_ID_VERSION).toBe('v1');
    // SHA-256("oncelock-advisory-v1\0<schema>\0<key>"), first 8 bytes, signed big-endian (checked with
    // Python's hashlib). If this fails, the hash changed: two releases would not exclude each other.
    expect(advisoryLockId('audit-backfill', 'oncelock')).toBe(6726308337530075540n);
    expect(advisoryLockId('scan:3', 'oncelock')).toBe(1748571009050779587n);
    expect(advisoryLockId('clé ✓', 'billing')).toBe(-9094705271223863082n);
  });

  it('separates schemas and keys, and stays within a signed 64-bit integer', () => {
    const ids = new Set<bigint>();
    for (const schema of ['oncelock', 'other'])
      for (let i = 0; i < 1000; i++) ids.add(advisoryLockId(`k${i}`, schema));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(BigInt.asIntN(64, id)).toBe(id);
  });
});
