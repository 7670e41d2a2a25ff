import { lease, newToken, redisBackend } from '@oncelock/redis';
import { spawnWorker, stopAllWorkers } from '@oncelock/testkit/faults';
import { historyNow as wallNow } from '@oncelock/testkit/history';
import { afterAll, describe, expect, it } from 'vitest';
import { delay, unique } from './helpers.js';

// Holders in child processes, killed and frozen for real. They use the shared Redis on 6379.
const url = 'redis://127.0.0.1:6379';
const holder = new URL('./fixtures/holder.mjs', import.meta.url);
afterAll(() => stopAllWorkers());

interface Held {
  type: 'held';
  fence: number;
  token: string;
}

interface Lost {
  type: 'lost';
  at: number;
  reason: string;
}

describe('holder processes', () => {
  it('a holder killed with SIGKILL: its lock is free at its TTL, not before', async () => {
    const key = unique('sigkill');
    const ttl = 2000; // room for a starved child's heartbeat on a loaded machine
    const worker = spawnWorker(holder, [url, key, String(ttl)]);
    const held = await worker.next<Held>((m) => (m as Held).type === 'held', 10_000);
    await delay(400); // let its heartbeat extend the lease at least once
    await worker.kill();
    const b = redisBackend({ url });
    const asked = performance.now();
    const seen = await b.inspect(key);
    expect(seen?.owner).toBe(held.token);
    const expiresBy = asked + seen!.ttlRemaining!;
    const contender = newToken();
    let grantedAt = 0;
    while (!grantedAt) {
      const sent = performance.now();
      const r = await b.acquire({ key, owner: contender, ttl: 5000 });
      if (r.granted) grantedAt = sent;
      else {
        expect(r.holder?.owner).toBe(held.token);
        await delay(10);
      }
    }
    // Granted by a request sent no earlier than the TTL the store reported (2 ms of PTTL rounding)...
    expect(grantedAt).toBeGreaterThanOrEqual(expiresBy - 2);
    // ...and promptly once it had passed (a generous bound for a loaded machine: well inside a second TTL).
    expect(grantedAt - expiresBy).toBeLessThan(ttl);
    const fence = (await b.inspect(key))?.fence;
    expect(fence).toBeGreaterThan(held.fence);
    await b.release({ key, owner: contender });
    await b.close();
  });

  it('a holder frozen with SIGSTOP past its TTL: another takes over, and on resume its signal fires at once', async () => {
    const key = unique('sigstop');
    const ttl = 600;
    const worker = spawnWorker(holder, [url, key, String(ttl)]);
    const held = await worker.next<Held>((m) => (m as Held).type === 'held', 10_000);
    worker.freeze();
    const b = redisBackend({ url });
    const taken = await lease(b, key, { ttl: 10_000, wait: 5000 });
    expect(taken.fence).toBeGreaterThan(held.fence);
    await delay(200);
    const thawedAt = wallNow();
    worker.thaw();
    const lost = await worker.next<Lost>((m) => (m as { type: string }).type === 'lost', 5000);
    // The frozen process's overdue timer runs first thing on resume and finds its validity gone.
    // (Before its next heartbeat would even be due, let alone answered; generous for a loaded machine.)
    expect(lost.at - thawedAt).toBeLessThan(500);
    expect(lost.reason).toMatch(/was lost/);
    // Its resumed heartbeat took nothing back from the new holder.
    await delay(100);
    expect((await b.inspect(key))?.owner).toBe(taken.token);
    expect(await taken.release()).toBe(true);
    await worker.stop();
    await b.close();
  });
});
