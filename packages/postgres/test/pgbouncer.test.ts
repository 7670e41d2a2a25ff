import { CapabilityUnsupportedError, lease, type PostgresBackend, postgresBackend } from '@oncelock/postgres';
import { backendContract } from '@oncelock/testkit';
import {
  type PgbouncerServer,
  pgbouncerBinary,
  postgresUrl,
  startPgbouncer,
} from '@oncelock/testkit/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testSchema } from './helpers.js';

// A real PgBouncer (Debian's `pgbouncer` package) in transaction mode, started on a free
// loopback port with its own config. Without the binary these tests are skipped, loudly.
const installed = pgbouncerBinary() !== undefined;
const missing =
  'pgbouncer is not installed (apt-get update && apt-get install -y pgbouncer): pooler tests skipped';
if (!installed) console.warn(missing);

describe.skipIf(!installed)('behind PgBouncer in transaction mode', () => {
  let bouncer: PgbouncerServer | undefined;
  const schema = testSchema('pgbouncer');

  // Table mode goes through the pooler for everything but LISTEN, which needs a direct session.
  backendContract({
    name: 'postgres (table mode) through pgbouncer',
    setup: async () => {
      bouncer = await startPgbouncer({ poolMode: 'transaction', poolSize: 3 });
    },
    create: () =>
      postgresBackend({ connectionString: bouncer!.url, schema, mode: 'table', listen: postgresUrl }),
    timeScale: 2,
    teardown: async () => {
      await bouncer?.stop();
      await dropSchema(schema);
    },
  });

  describe('advisory mode', () => {
    let single: PgbouncerServer;
    const own = testSchema('pgbouncer_advisory');
    const made: PostgresBackend[] = [];
    beforeAll(async () => {
      // One server connection for everyone: two lock sessions are bound to meet on it.
      single = await startPgbouncer({ poolMode: 'transaction', poolSize: 1 });
    });
    afterAll(async () => {
      await Promise.all(made.map((b) => b.close()));
      await single.stop();
      await dropSchema(own);
    });

    it('detects that it is behind a transaction pooler and refuses, for good, with a typed error', async () => {
      const make = () => {
        const b = postgresBackend({ connectionString: single.url, schema: own });
        made.push(b);
        return b;
      };
      const a = make();
      const held = await lease(a, 'k1', { ttl: 5000 });
      const b = make();
      const refused = await b.acquire({ key: 'k2', owner: 'o', ttl: 5000 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(CapabilityUnsupportedError);
      expect((refused as Error).message).toContain("mode: 'table'");
      // The first backend's session was taken over: its next statement finds out.
      await expect(a.acquire({ key: 'k3', owner: 'o', ttl: 5000 })).rejects.toBeInstanceOf(
        CapabilityUnsupportedError,
      );
      expect(await a.extend({ key: 'k1', owner: held.token, ttl: 5000 })).toBe(false);
      await expect(b.acquire({ key: 'k4', owner: 'o', ttl: 5000 })).rejects.toBeInstanceOf(
        CapabilityUnsupportedError,
      );
    });
  });
});

describe.skipIf(installed)('behind PgBouncer', () => {
  it.skip(missing, () => {});
});
