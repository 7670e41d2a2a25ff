import { type PostgresBackend, type PostgresMode, postgresBackend } from '@oncelock/postgres';
import { delay } from '@oncelock/testkit';
import { type HolderMessage, spawnWorker, stopAllWorkers } from '@oncelock/testkit/faults';
import { postgresUrl } from '@oncelock/testkit/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testSchema } from './helpers.js';

// Saved state on the real server, in both modes: kept only for the holder of the key's lease, as
// the store sees it now (its TTL, and in advisory mode its session), never under a smaller fence.
const schema = testSchema('states');
const fixture = new URL('./fixtures/holder.mjs', import.meta.url);
const backends: PostgresBackend[] = [];
const make = (mode: PostgresMode) => {
  const b = postgresBackend({ connectionString: postgresUrl, schema, mode });
  backends.push(b);
  return b;
};

beforeAll(() => make('advisory').migrate());
afterAll(async () => {
  await stopAllWorkers();
  await Promise.all(backends.map((b) => b.close()));
  await dropSchema(schema);
});

/** Waits until nobody holds `key`, as the store sees it. */
async function untilFree(b: PostgresBackend, key: string): Promise<void> {
  while (await b.inspect(key)) await delay(20);
}

for (const mode of ['advisory', 'table'] as const) {
  describe(`saveState, ${mode} mode`, () => {
    it('keeps the holder’s value, refuses anyone else and a smaller fence, and deletes', async () => {
      const b = make(mode);
      const key = `cursor-${mode}`;
      expect(await b.loadState(key)).toBeNull();
      const a = await b.acquire({ key, owner: 'a', ttl: 10_000 });
      if (!a.granted) throw new Error('expected a grant');
      expect(await b.saveState({ key, owner: 'a', fence: a.fence, value: '{"id":1}' })).toBe(true);
      expect(await b.saveState({ key, owner: 'b', fence: a.fence! + 1, value: '"b"' })).toBe(false);
      expect(await b.release({ key, owner: 'a' })).toBe(true);
      // The lease is gone: its owner's save is refused.
      expect(await b.saveState({ key, owner: 'a', fence: a.fence, value: '"late"' })).toBe(false);
      const next = await b.acquire({ key, owner: 'b', ttl: 10_000 });
      if (!next.granted) throw new Error('expected a grant');
      expect(await b.saveState({ key, owner: 'b', fence: next.fence, value: '{"id":2}' })).toBe(true);
      expect(await b.saveState({ key, owner: 'b', fence: a.fence, value: '"older"' })).toBe(false);
      expect(await b.saveState({ key, owner: 'b', fence: next.fence, value: '{"id":3}' })).toBe(true);
      const saved = await b.loadState(key);
      expect(saved).toMatchObject({ value: '{"id":3}', fence: next.fence });
      expect(Math.abs(saved!.savedAt - Date.now())).toBeLessThan(60_000);
      // Another backend (another process) reads it, and deletes it whoever holds the lock.
      const other = make(mode);
      expect(await other.loadState(key)).toEqual(saved);
      expect(await other.deleteState(key)).toBe(true);
      expect(await other.deleteState(key)).toBe(false);
      expect(await b.loadState(key)).toBeNull();
    });

    it('refuses a save once the lease has lapsed at its TTL', async () => {
      const b = make(mode);
      const key = `lapse-${mode}`;
      const a = await b.acquire({ key, owner: 'a', ttl: 200 });
      if (!a.granted) throw new Error('expected a grant');
      expect(await b.saveState({ key, owner: 'a', fence: a.fence, value: '1' })).toBe(true);
      await untilFree(b, key);
      expect(await b.saveState({ key, owner: 'a', fence: a.fence, value: '2' })).toBe(false);
      expect(await b.loadState(key)).toMatchObject({ value: '1' });
    });

    it('refuses a permit holder: state goes with a plain lease', async () => {
      const b = make(mode);
      const key = `permits-${mode}`;
      const p = await b.acquire({ key, owner: 'p', ttl: 10_000, limit: 2 });
      expect(p.granted).toBe(true);
      expect(await b.saveState({ key, owner: 'p', fence: p.granted ? p.fence : 0, value: '1' })).toBe(false);
      await b.release({ key, owner: 'p', limit: 2 });
    });

    it('refuses a SIGKILLed holder’s save once its lease has ended in the store', async () => {
      const b = make(mode);
      const key = `killed-${mode}`;
      // Advisory mode frees the key with the holder's session, long before this TTL.
      const ttl = mode === 'advisory' ? 60_000 : 400;
      const holder = spawnWorker(fixture, [postgresUrl, schema, mode, key, String(ttl)]);
      const held = await holder.next<HolderMessage>((m) => m.type === 'held');
      if (held.type !== 'held') throw new Error('expected held');
      // Saved from this process for the holder: the store checks the lease, not who asks.
      const save = (value: string) => b.saveState({ key, owner: held.token, fence: held.fence, value });
      expect(await save('"alive"')).toBe(true);
      await holder.kill();
      await untilFree(b, key);
      expect(await save('"dead"')).toBe(false);
      expect(await b.loadState(key)).toMatchObject({ value: '"alive"', fence: held.fence });
    });
  });
}

it('refuses a value or key with NUL before any round trip', async () => {
  const b = make('table');
  await expect(b.saveState({ key: 'k', owner: 'o', fence: 1, value: 'a\0b' })).rejects.toThrow(/NUL/);
  await expect(b.loadState('a\0b')).rejects.toThrow(/NUL/);
});
