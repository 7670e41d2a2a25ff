// Holders in child processes, killed and frozen for real, over @keyv/redis on the shared Redis.
import { spawnWorker, stopAllWorkers } from '@oncelock/testkit/faults';
import { historyNow as wallNow } from '@oncelock/testkit/history';
import { afterAll, describe, expect, it } from 'vitest';
import { keyvBackend, lease, newToken } from '../src/index.js';
import { REDIS_URL, redisStore } from './stores.js';

const store = redisStore();
const holder = new URL('./fixtures/holder.mjs', import.meta.url);
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
afterAll(async () => {
  await stopAllWorkers();
  await store.cleanup();
});

interface Held {
  type: 'held';
  token: string;
}
interface Lost {
  type: 'lost';
  at: number;
  reason: string;
}

const start = async (key: string, ttl: number) => {
  const worker = spawnWorker(holder, [REDIS_URL, store.namespace, key, String(ttl)]);
  const held = await worker.next<Held>((m) => (m as Held).type === 'held', 10_000);
  return { worker, held };
};

describe('holder processes over Keyv', () => {
  it('a holder killed with SIGKILL: its lock is free at its TTL, not before', async () => {
    const key = `sigkill:${newToken()}`;
    const ttl = 1000;
    const { worker, held } = await start(key, ttl);
    await delay(400); // its heartbeat has extended the lease at least once
    await worker.kill();
    const b = keyvBackend({ store: store.keyv(), closeStore: true });
    // The holder's expiry lies between these two, whenever inside the call the store was read.
    const asked = Date.now();
    const seen = await b.inspect(key);
    const expiresAfter = asked + seen!.ttlRemaining!;
    const expiresBefore = Date.now() + seen!.ttlRemaining!;
    expect(seen?.owner).toBe(held.token);
    const contender = newToken();
    let granted: { sent: number; replied: number } | undefined;
    while (!granted) {
      const sent = Date.now();
      const r = await b.acquire({ key, owner: contender, ttl: 5000 });
      if (r.granted) granted = { sent, replied: Date.now() };
      else {
        expect(r.holder?.owner).toBe(held.token);
        await delay(10);
      }
    }
    expect(granted.replied).toBeGreaterThanOrEqual(expiresAfter); // not before its TTL
    expect(granted.sent - expiresBefore).toBeLessThan(500); // and promptly after, on a loaded machine
    expect(await b.release({ key, owner: contender })).toBe(true);
    await b.close();
  });

  it('a holder frozen with SIGSTOP past its TTL: another takes over, and on resume its signal fires', async () => {
    const key = `sigstop:${newToken()}`;
    const { worker, held } = await start(key, 600);
    worker.freeze();
    const b = keyvBackend({ store: store.keyv(), closeStore: true });
    const taken = await lease(b, key, { ttl: 10_000, wait: 5000 });
    expect(taken.token).not.toBe(held.token);
    await delay(200);
    const thawedAt = wallNow();
    worker.thaw();
    const lost = await worker.next<Lost>((m) => (m as { type: string }).type === 'lost', 5000);
    // The overdue timer runs first thing on resume; generous for a loaded machine.
    expect(lost.at - thawedAt).toBeLessThan(500);
    expect(lost.reason).toMatch(/was lost/);
    // Its resumed heartbeat took nothing back: a compare-and-extend on someone else's entry fails.
    await delay(100);
    expect((await b.inspect(key))?.owner).toBe(taken.token);
    expect(await taken.release()).toBe(true);
    await worker.stop();
    await b.close();
  });
});
