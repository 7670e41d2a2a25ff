import { randomUUID } from 'node:crypto';
import { lease, type PostgresMode } from '@oncelock/postgres';
import { spawnWorker, stopAllWorkers } from '@oncelock/testkit/faults';
import { postgresUrl } from '@oncelock/testkit/servers';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { advisoryLocksOf, backendsOn, dropSchema, entriesScanned, sql, testSchema } from './helpers.js';
import { type Waiter, waiter } from './waiter.js';

// Direct handoff: a plain release hands the key to the oldest waiter in its own statement, and
// the waiter takes it from the NOTIFY, with no statement of its own. Waiters are driven by hand
// (see waiter.ts) or are core's waiting leases, each on a backend of its own, as processes are.
const schema = testSchema('hand');
const { make, closeAll } = backendsOn(schema);
const fixture = new URL('./fixtures/waiter.mjs', import.meta.url);

afterEach(closeAll);
afterAll(async () => {
  await stopAllWorkers();
  await dropSchema(schema);
});

/** A waiter's row: its LISTEN session, its lock session (advisory mode) and its terms. */
async function rowOf(key: string, owner: string) {
  const [row] = await sql<{
    pid: number;
    lock_pid: number | null;
    anchor: number | null;
    ttl_ms: number | null;
  }>(`SELECT pid, lock_pid, anchor, ttl_ms FROM "${schema}".waiters WHERE key = $1 AND owner = $2`, [
    key,
    owner,
  ]);
  return row;
}

const queue = async (key: string) =>
  (
    await sql<{ owner: string }>(`SELECT owner FROM "${schema}".waiters WHERE key = $1 ORDER BY since`, [key])
  ).map((r) => r.owner);

/** When the server session `pid` last started a statement. */
const lastStatement = async (pid: number) =>
  (await sql<{ at: string }>('SELECT query_start::text AS at FROM pg_stat_activity WHERE pid = $1', [pid]))[0]
    ?.at;

/** `key` held (owner 'h', with a fence) by a backend of its own, and `n` waiters joined behind it. */
async function held(mode: PostgresMode, name: string, n: number) {
  const holder = make(mode);
  const key = `${name}:${crypto.randomUUID()}`;
  const granted = await holder.acquire({ key, owner: 'h', ttl: 60_000 });
  expect(granted.granted).toBe(true);
  const waiters: Waiter[] = [];
  const sent: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = await waiter(make(mode), key);
    sent.push(performance.now());
    expect(await w.tryOnce()).toBe(false);
    waiters.push(w);
  }
  return { holder, key, waiters, sent, fence: granted.granted ? (granted.fence ?? 0) : 0 };
}

describe.each(['advisory', 'table'] as const)('direct handoff, %s mode', (mode) => {
  it('a release hands the key to the oldest waiter, which takes it with no statement; fences increase', async () => {
    const { holder, key, waiters, sent, fence } = await held(mode, 'hand', 2);
    const [first, second] = waiters as [Waiter, Waiter];
    const row = await rowOf(key, first.owner);
    expect(row).toMatchObject({ ttl_ms: 10_000, anchor: expect.any(Number) });
    const lockPid = row?.lock_pid ?? undefined;
    if (mode === 'advisory') {
      // The waiter's lock session keeps the count of its refused acquire while it waits.
      expect(lockPid).toBeDefined();
      expect(await advisoryLocksOf(lockPid!)).toBe(1);
    } else expect(lockPid).toBeUndefined();
    const before = lockPid && (await lastStatement(lockPid));

    const woken = first.woken();
    expect(await holder.release({ key, owner: 'h' })).toBe(true);
    await woken;
    // The release wrote the waiter's grant itself, before the waiter did anything.
    const handed = await holder.inspect(key);
    expect(handed?.owner).toBe(first.owner);
    expect(handed!.fence).toBeGreaterThan(fence);
    expect(await queue(key)).toEqual([second.owner]);

    const r = await first.acquire();
    // Counted from the join's send time (`validFrom` is set only on a handed grant).
    expect(r).toEqual({ granted: true, fence: handed!.fence, validFrom: row!.anchor });
    expect(row!.anchor).toBeGreaterThanOrEqual(sent[0]!);
    expect(row!.anchor).toBeLessThan(sent[1]!);
    if (lockPid) {
      expect(await lastStatement(lockPid)).toBe(before);
      expect(await advisoryLocksOf(lockPid)).toBe(1);
    }

    const next = second.woken();
    expect(await first.backend.release({ key, owner: first.owner })).toBe(true);
    await next;
    const again = await second.acquire();
    expect(again).toMatchObject({ granted: true, validFrom: expect.any(Number) });
    expect(again.granted && again.fence).toBeGreaterThan(handed!.fence!);
    if (lockPid) expect(await advisoryLocksOf(lockPid)).toBe(0);
    expect(second.calls).toBe(1);
    await second.backend.release({ key, owner: second.owner });
    const after = await holder.acquire({ key, owner: 'late', ttl: 1000 });
    expect(after.granted && after.fence).toBeGreaterThan(again.granted ? again.fence! : Infinity);
  });

  it('a waiter that gives up as the key is handed to it passes the key on at once', async () => {
    const { holder, key, waiters } = await held(mode, 'give-up', 2);
    const [first, second] = waiters as [Waiter, Waiter];
    const lockPid = (await rowOf(key, first.owner))?.lock_pid;
    const woken = second.woken();
    // Either may come first: the hand reaches a process where nobody waits for it any more.
    await Promise.all([
      holder.release({ key, owner: 'h' }),
      Promise.resolve().then(() => first.unsubscribe()),
    ]);
    await woken;
    expect(await second.tryOnce()).toBe(true);
    expect((await holder.inspect(key))?.owner).toBe(second.owner);
    // The count it kept while waiting went back exactly once.
    if (lockPid) await vi.waitFor(async () => expect(await advisoryLocksOf(lockPid)).toBe(0));
  });

  it("core's waiting lease, aborted as the key is handed to it, passes the key on", async () => {
    const { holder, key } = await held(mode, 'abort', 0);
    const controller = new AbortController();
    const waiting = lease(make(mode), key, { ttl: 60_000, wait: 60_000, signal: controller.signal });
    const outcome = waiting.then(
      (l) => l.release().then(() => 'held'),
      (error: Error) => error.name,
    );
    await vi.waitFor(async () =>
      expect(
        (await sql(`SELECT 1 FROM "${schema}".waiters WHERE key = $1 AND anchor IS NOT NULL`, [key])).length,
      ).toBe(1),
    );
    const second = await waiter(make(mode), key);
    expect(await second.tryOnce()).toBe(false);
    const woken = second.woken();
    await holder.release({ key, owner: 'h' });
    controller.abort();
    expect(['WaitAbortedError', 'held']).toContain(await outcome);
    await woken;
    expect(await second.tryOnce()).toBe(true);
  });

  it('many waits on one key leave no dead index entries for the next pick of a waiter to walk', async () => {
    const key = `churn:${randomUUID()}`;
    const backends = [make(mode), make(mode), make(mode)];
    let grants = 0;
    // Three callers take turns on the key: most of their leases are waited for, and each wait
    // leaves its waiter's row behind, deleted.
    await Promise.all(
      backends.map(async (b) => {
        for (let n = 0; n < 150; n++) {
          const l = await lease(b, key, { ttl: 10_000, wait: 10_000 });
          grants++;
          await l.release();
        }
      }),
    );
    expect(grants).toBe(450);
    // Without index scans, 76 to 196 of them were left here.
    expect(await entriesScanned(schema, 'waiters', key)).toBeLessThan(20);
  });

  it('a release of schema version 4 only wakes a waiter with terms, which then acquires', async () => {
    const { key, waiters } = await held(mode, 'old-release', 1);
    const first = waiters[0]!;
    const lockPid = (await rowOf(key, first.owner))?.lock_pid;
    const woken = first.woken();
    // What a release of version 4 runs: delete its row, then wake (unchanged since version 4).
    await sql(
      `WITH d AS (DELETE FROM "${schema}".locks WHERE key = $1 AND owner = 'h' RETURNING key) SELECT "${schema}".wake(d.key) FROM d`,
      [key],
    );
    await woken;
    expect(await first.backend.inspect(key)).toBeNull();
    const r = await first.acquire();
    expect(r.granted).toBe(true);
    expect(r).not.toHaveProperty('validFrom');
    // Its kept count became the grant's: one count, given back by the release.
    if (lockPid) expect(await advisoryLocksOf(lockPid)).toBe(1);
    await first.backend.release({ key, owner: first.owner });
    if (lockPid) expect(await advisoryLocksOf(lockPid)).toBe(0);
  });

  it('a waiter without terms (as of version 4) ahead of one with terms is woken, and the key stays free', async () => {
    const { holder, key, waiters } = await held(mode, 'old-waiter', 2);
    const [old, young] = waiters as [Waiter, Waiter];
    await sql(`UPDATE "${schema}".waiters SET ttl_ms = NULL, anchor = NULL WHERE key = $1 AND owner = $2`, [
      key,
      old.owner,
    ]);
    const woken = old.woken();
    await holder.release({ key, owner: 'h' });
    await woken;
    expect(await holder.inspect(key)).toBeNull();
    const r = await old.acquire();
    expect(r.granted).toBe(true);
    expect(r).not.toHaveProperty('validFrom');
    expect(young.calls).toBe(0);
  });
});

it('advisory mode: a waiter process SIGKILLed while queued is passed over, and the next is handed the key', async () => {
  const { holder, key } = await held('advisory', 'killed', 0);
  const child = spawnWorker(fixture, [postgresUrl, schema, key]);
  // Queued with terms: its first try was refused, then it subscribed and joined.
  await vi.waitFor(
    async () => {
      const [row] = await sql<{ owner: string }>(
        `SELECT owner FROM "${schema}".waiters WHERE key = $1 AND anchor IS NOT NULL`,
        [key],
      );
      expect(row).toBeDefined();
    },
    { timeout: 20_000 },
  );
  const [dead] = await sql<{ owner: string; pid: number; lock_pid: number }>(
    `SELECT owner, pid, lock_pid FROM "${schema}".waiters WHERE key = $1`,
    [key],
  );
  const next = await waiter(make('advisory'), key);
  expect(await next.tryOnce()).toBe(false);
  expect(await queue(key)).toEqual([dead!.owner, next.owner]);
  await child.kill();
  // The server ends its sessions once it sees the connections closed.
  await vi.waitFor(
    async () =>
      expect(
        await sql('SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1)', [[dead!.pid, dead!.lock_pid]]),
      ).toEqual([]),
    { timeout: 20_000 },
  );
  const woken = next.woken();
  await holder.release({ key, owner: 'h' });
  await woken;
  expect(await next.acquire()).toMatchObject({ granted: true, validFrom: expect.any(Number) });
  expect(child.messages).toEqual([]);
});

it('advisory mode: a claimed hand that arrives again after the waiter left is no new hand: the grant stays', async () => {
  const { holder, key, waiters } = await held('advisory', 'again', 1);
  const first = waiters[0]!;
  const { pid } = (await rowOf(key, first.owner))!;
  const woken = first.woken();
  await holder.release({ key, owner: 'h' });
  await woken;
  const r = await first.acquire();
  expect(r.granted).toBe(true);
  first.unsubscribe();
  const fence = r.granted ? r.fence : undefined;
  const validFrom = r.granted ? r.validFrom : undefined;
  // The same NOTIFY again, then a wake-up of another key that the process watches: once that
  // arrives, the first has been read.
  const other = await waiter(first.backend, `other:${key}`, 'other');
  const barrier = other.woken();
  await sql(`SELECT pg_notify($1, json_build_array($2::text, $3::text, $4::text, $5::float8, 10000)::text)`, [
    `oncelock!${pid}`,
    first.owner,
    key,
    String(fence),
    validFrom,
  ]);
  await sql(`SELECT pg_notify($1, json_build_array('other', $2::text)::text)`, [
    `oncelock!${pid}`,
    `other:${key}`,
  ]);
  await barrier;
  // Calls of one owner run in order: a release of the stale hand would have come first.
  expect(await first.backend.acquire({ key, owner: first.owner, ttl: 10_000 })).toEqual({
    granted: true,
    fence,
  });
});
