import {
  type PostgresBackend,
  type PostgresBackendOptions,
  postgresBackend,
  topicChannel,
} from '@oncelock/postgres';
import { terminatePgBackends } from '@oncelock/testkit/faults';
import { postgresUrl } from '@oncelock/testkit/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, sql, testSchema } from './helpers.js';

// Wake-ups across processes: two backend objects (two sessions, as two processes have), a NOTIFY
// from plain SQL as a database trigger sends it, and a LISTEN connection that the server ends.
const schema = testSchema('topics');
const backends: PostgresBackend[] = [];
const modes: Record<string, Omit<PostgresBackendOptions, 'connectionString' | 'pool'>> = {
  advisory: { schema },
  table: { schema, mode: 'table', listen: postgresUrl },
};
const make = (mode: string) => {
  const b = postgresBackend({ connectionString: postgresUrl, ...modes[mode] });
  backends.push(b);
  return b;
};

beforeAll(() => make('advisory').migrate());
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await dropSchema(schema);
});

/** A listener that counts its calls, and resolves `next()` on the next one. */
function counter() {
  let calls = 0;
  let wake: (() => void) | undefined;
  return {
    fn: () => {
      calls++;
      wake?.();
    },
    get calls() {
      return calls;
    },
    next: () => new Promise<void>((resolve) => (wake = resolve)),
  };
}

describe('topicChannel', () => {
  it('names a short topic plainly and hashes a long one into 63 bytes, pinned', () => {
    expect(topicChannel('orders', 'oncelock')).toBe('oncelock:oncelock:orders');
    expect(topicChannel('orders', 'billing')).toBe('oncelock:billing:orders');
    const long = `loop:${'x'.repeat(60)}`;
    expect(topicChannel(long, 'oncelock')).toBe(
      'oncelock:2e3150baa1fff050b21a700db7d715597d9d116f301261e42f13b6',
    );
    expect(Buffer.byteLength(topicChannel('é'.repeat(30), 'oncelock'))).toBeLessThanOrEqual(63);
    expect(topicChannel('é'.repeat(22), 'oncelock')).toBe(`oncelock:oncelock:${'é'.repeat(22)}`);
    expect(topicChannel(long, 'other')).not.toBe(topicChannel(long, 'oncelock'));
  });
});

for (const mode of ['advisory', 'table']) {
  describe(`notify and listen, ${mode} mode`, () => {
    it('wakes a listener of another backend, and only while it listens', async () => {
      const [sender, receiver] = [make(mode), make(mode)];
      const [kept, dropped, other] = [counter(), counter(), counter()];
      await receiver.listen!('jobs', kept.fn);
      const stop = await receiver.listen!('jobs', dropped.fn);
      await receiver.listen!('other', other.fn);
      let woken = kept.next();
      await sender.notify('jobs');
      await woken;
      expect([kept.calls, dropped.calls, other.calls]).toEqual([1, 1, 0]);
      stop();
      woken = kept.next();
      await sender.notify('jobs');
      await woken;
      expect([kept.calls, dropped.calls, other.calls]).toEqual([2, 1, 0]);
    });

    it('wakes on a NOTIFY from SQL, as a trigger sends it, for short and hashed topics', async () => {
      const b = make(mode);
      const table = `"${schema}".${mode}_jobs`;
      const long = `drain:${mode}:${'y'.repeat(80)}`;
      await sql(`CREATE TABLE ${table} (id serial PRIMARY KEY)`);
      await sql(`CREATE FUNCTION ${table}_wake() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('${topicChannel(long, schema)}', ''); RETURN NULL; END $$`);
      await sql(
        `CREATE TRIGGER wake AFTER INSERT ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${table}_wake()`,
      );
      const [short, hashed] = [counter(), counter()];
      await b.listen!('plain', short.fn);
      await b.listen!(long, hashed.fn);
      let woken = short.next();
      await sql(`NOTIFY "${topicChannel('plain', schema)}"`);
      await woken;
      woken = hashed.next();
      await sql(`INSERT INTO ${table} DEFAULT VALUES`);
      await woken;
      expect([short.calls, hashed.calls]).toEqual([1, 1]);
    });

    it("listens again after the server ends the listener's connection", async () => {
      const [sender, receiver] = [make(mode), make(mode)];
      const listener = counter();
      const topic = `survivor-${mode}`;
      await receiver.listen!(topic, listener.fn);
      const [row] = await sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query = $1`, [
        `LISTEN "${topicChannel(topic, schema)}"`,
      ]);
      // Once LISTENed again, the listener is woken: a wake-up sent in the gap would be lost.
      const rejoined = listener.next();
      expect(await terminatePgBackends({ connectionString: postgresUrl, pid: row!.pid })).toEqual([row!.pid]);
      await rejoined;
      const before = listener.calls;
      const woken = listener.next();
      await sender.notify(topic);
      await woken;
      expect(listener.calls).toBe(before + 1);
    });
  });
}

it('table mode without a LISTEN connection notifies but has no listen', async () => {
  const b = postgresBackend({ connectionString: postgresUrl, schema, mode: 'table' });
  backends.push(b);
  expect(b.listen).toBeUndefined();
  const receiver = counter();
  await make('advisory').listen!('from-table', receiver.fn);
  const woken = receiver.next();
  await b.notify('from-table');
  await woken;
  await expect(b.notify('a\0b')).rejects.toThrow(/NUL/);
});
