import { randomUUID } from 'node:crypto';
import type { PostgresMode } from '@oncelock/postgres';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { backendsOn, dropSchema, holderPid, sql, testSchema } from './helpers.js';
import { type Waiter, waiter } from './waiter.js';

// A release wakes one waiter, the one that has waited longest, and nobody swallows a wake-up.
// Each waiter is a backend of its own (its own LISTEN session, as a process has), driven by hand
// through subscribe and `waiting` acquires, as core's waiting loop does, without its fallback
// poll: so whom a release woke is read from the waiters' rows and the subscriptions called.
// A plain release hands the key to the waiter it picks (see hand.test.ts); the waking alone is
// tested here on waiters without terms, as processes of releases before schema version 5 join.
const schema = testSchema('wake_one');
const { make, closeAll } = backendsOn(schema);

afterEach(closeAll);
afterAll(() => dropSchema(schema));

/** The key's waiters as the store has them, oldest first: owner and whether woken. */
const queue = (key: string) =>
  sql<{ owner: string; woken: boolean }>(
    `SELECT owner, woken_at IS NOT NULL AS woken FROM "${schema}".waiters WHERE key = $1 ORDER BY since`,
    [key],
  );

/**
 * `key` held by a backend of its own (owner 'h'), and `n` waiters joined behind it, oldest first.
 * `terms`: false drops their terms, as a waiter of a release before schema version 5 joins.
 */
async function heldWithWaiters(mode: PostgresMode, name: string, n: number, terms = true) {
  const holder = make(mode);
  const key = `${name}:${randomUUID()}`;
  expect((await holder.acquire({ key, owner: 'h', ttl: 60_000 })).granted).toBe(true);
  const waiters: Waiter[] = [];
  for (let i = 0; i < n; i++) {
    const w = await waiter(make(mode), key);
    expect(await w.tryOnce()).toBe(false);
    waiters.push(w);
  }
  if (!terms) await sql(`UPDATE "${schema}".waiters SET ttl_ms = NULL, anchor = NULL WHERE key = $1`, [key]);
  return { holder, key, waiters };
}

describe.each(['advisory', 'table'] as const)('wake one waiter, %s mode', (mode) => {
  it('a release wakes the waiter that has waited longest, and only it; the next release the next', async () => {
    const { holder, key, waiters } = await heldWithWaiters(mode, 'fifo', 3, false);
    const [first, second, third] = waiters as [Waiter, Waiter, Waiter];
    expect(await queue(key)).toEqual(waiters.map((w) => ({ owner: w.owner, woken: false })));

    const woken = first.woken();
    expect(await holder.release({ key, owner: 'h' })).toBe(true);
    // The release itself marked one waiter woken: the others were not told.
    expect((await queue(key)).map((q) => q.woken)).toEqual([true, false, false]);
    await woken;
    expect(await first.tryOnce()).toBe(true);
    expect((await queue(key)).map((q) => q.owner)).toEqual([second.owner, third.owner]);

    // The next release finds waiters without terms again.
    await sql(`UPDATE "${schema}".waiters SET ttl_ms = NULL, anchor = NULL WHERE key = $1`, [key]);
    const next = second.woken();
    await first.backend.release({ key, owner: first.owner });
    await next;
    expect((await queue(key)).map((q) => q.woken)).toEqual([true, false]);
    expect(await second.tryOnce()).toBe(true);
    expect(third.calls).toBe(0);
  });

  it('a waiter refused again after its wake-up keeps its place', async () => {
    const { holder, key, waiters } = await heldWithWaiters(mode, 'place', 2, false);
    const [first, second] = waiters as [Waiter, Waiter];
    const woken = first.woken();
    await holder.release({ key, owner: 'h' });
    await woken;
    // Someone who never waited takes the key first; the woken waiter is refused and stays first.
    expect((await holder.acquire({ key, owner: 'barger', ttl: 10_000 })).granted).toBe(true);
    expect(await first.tryOnce()).toBe(false);
    expect(await queue(key)).toEqual([
      { owner: first.owner, woken: false },
      { owner: second.owner, woken: false },
    ]);
  });

  it('a waiter that stops waiting gives its place up and passes a wake-up on', async () => {
    const { holder, key, waiters } = await heldWithWaiters(mode, 'gone', 2, false);
    const [first, second] = waiters as [Waiter, Waiter];
    // Woken, then it gives up before trying again (a timeout, an abort): the next waiter is woken.
    const woken = second.woken();
    await holder.release({ key, owner: 'h' });
    first.unsubscribe();
    await woken;
    await vi.waitFor(async () => expect((await queue(key)).map((q) => q.owner)).toEqual([second.owner]));
    expect(await second.tryOnce()).toBe(true);
  });

  it('a wake-up for a waiter its process no longer watches is passed on to the next', async () => {
    const { holder, key } = await heldWithWaiters(mode, 'unheard', 0);
    // A backend whose LISTEN session is live (it watches another key), waiting on `key` without a subscription.
    const stray = await waiter(make(mode), `other:${randomUUID()}`);
    const refused = await stray.backend.acquire({ key, owner: 'stray', ttl: 10_000, waiting: true });
    expect(refused.granted).toBe(false);
    const next = await waiter(make(mode), key);
    await next.tryOnce();
    const woken = next.woken();
    await holder.release({ key, owner: 'h' });
    await woken;
    expect(await next.tryOnce()).toBe(true);
    expect(await queue(key)).toEqual([]);
  });

  it('a waiter whose LISTEN session has ended is never woken: the next one is', async () => {
    const { holder, key, waiters } = await heldWithWaiters(mode, 'dead', 2);
    const [dead, live] = waiters as [Waiter, Waiter];
    const [row] = await sql<{ pid: number }>(
      `SELECT pid FROM "${schema}".waiters WHERE key = $1 AND owner = $2`,
      [key, dead.owner],
    );
    // Its process is gone: the server ends the session (waiting until it has).
    await sql('SELECT pg_terminate_backend($1, 5000)', [row!.pid]);
    const woken = live.woken();
    await holder.release({ key, owner: 'h' });
    await woken;
    expect(await live.tryOnce()).toBe(true);
  });

  it('a released permit wakes one waiter, and each further release the next', async () => {
    const key = `permits:${randomUUID()}`;
    const holders = [make(mode), make(mode)];
    for (const [i, h] of holders.entries())
      expect((await h.acquire({ key, owner: `h${i}`, ttl: 10_000, limit: 2 })).granted).toBe(true);
    const waiters: Waiter[] = [];
    for (let i = 0; i < 3; i++) {
      const w = await waiter(make(mode), key);
      expect(await w.tryOnce(2)).toBe(false);
      waiters.push(w);
    }
    const [first, second, third] = waiters as [Waiter, Waiter, Waiter];
    const one = first.woken();
    const two = second.woken();
    await holders[0]!.release({ key, owner: 'h0', limit: 2 });
    await holders[1]!.release({ key, owner: 'h1', limit: 2 });
    await Promise.all([one, two]);
    expect((await queue(key)).map((q) => q.woken)).toEqual([true, true, false]);
    expect(await first.tryOnce(2)).toBe(true);
    expect(await second.tryOnce(2)).toBe(true);
    expect(third.calls).toBe(0);
    expect(await queue(key)).toEqual([{ owner: third.owner, woken: false }]);
  });
});

it('advisory mode: a holder whose lock session ends wakes the next waiter', async () => {
  const { key, waiters } = await heldWithWaiters('advisory', 'session', 1);
  const w = waiters[0]!;
  const woken = w.woken();
  // The connection is cut under the holder, which lives on: its grant ends with the session.
  await sql('SELECT pg_terminate_backend($1, 5000)', [await holderPid(schema, key)]);
  await woken;
  expect(await w.tryOnce()).toBe(true);
});
