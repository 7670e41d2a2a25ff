import { randomUUID } from 'node:crypto';
import { type Lease, type LockBackend, lease } from '@oncelock/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { HolderMessage } from './faults/holder.js';
import type { Worker } from './faults/processes.js';
import { historyNow } from './history.js';
import { delay } from './waits.js';

export interface HolderFaultOptions {
  /** Shown in the test names: `holder processes: redis`. */
  name: string;
  /**
   * Starts a child process that holds `key` with a TTL of `ttl` ms: a script that builds the
   * backend from the built package, as a user's worker would, and calls `holdLeaseForParent`.
   */
  holder: (key: string, ttl: number) => Worker;
  /** A backend in this process, for the contender. The suite closes what it makes. */
  create: () => LockBackend | Promise<LockBackend>;
  /**
   * When a SIGKILLed holder's lock comes free: `'ttl'` (default), or `'at-once'` for a store
   * that ties a lock to its holder's session (PostgreSQL advisory locks).
   */
  killedFree?: 'ttl' | 'at-once';
  /**
   * Runs once the thawed holder has seen its loss, while the successor still holds: checks
   * special to the store, such as the stale holder's fenced write being refused.
   */
  afterThaw?: (context: { holder: Worker; successor: Lease; key: string }) => Promise<void>;
  /** Multiplies every TTL and wait, for slow stores. Default 1. */
  timeScale?: number;
}

type Held = Extract<HolderMessage, { type: 'held' }>;
type Lost = Extract<HolderMessage, { type: 'lost' }>;
const isType = (type: string) => (m: unknown) => (m as { type?: string }).type === type;

/**
 * Registers the tests of a lease holder in another process that is killed (SIGKILL) or frozen
 * (SIGSTOP) for real, the faults a lease exists for. Every backend's test calls it in a few
 * lines, as it calls `backendContract`.
 *
 * @example
 * holderFaultSuite({
 *   name: 'redis',
 *   holder: (key, ttl) => spawnWorker(new URL('./fixtures/holder.mjs', import.meta.url), [key, String(ttl)]),
 *   create: () => redisBackend({ url: redisUrl }),
 * });
 */
export function holderFaultSuite(options: HolderFaultOptions): void {
  const t = (ms: number) => Math.round(ms * (options.timeScale ?? 1));
  const workers: Worker[] = [];
  const backends: LockBackend[] = [];
  const spawn = async (name: string, ttl: number) => {
    const key = `holder-faults:${name}:${randomUUID()}`;
    const worker = options.holder(key, ttl);
    workers.push(worker);
    const held = await worker.next<Held>(isType('held'), t(10_000));
    return { key, worker, held };
  };
  const make = async () => {
    const b = await options.create();
    backends.push(b);
    return b;
  };

  describe(`holder processes: ${options.name}`, () => {
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await Promise.all(backends.splice(0).map((b) => b.close().catch(() => {})));
    });

    if (options.killedFree === 'at-once') {
      it('a holder killed with SIGKILL: its lock is free within a second, whatever its TTL', async () => {
        const { key, worker } = await spawn('kill', 60_000);
        const b = await make();
        expect((await b.acquire({ key, owner: randomUUID(), ttl: t(5000) })).granted).toBe(false);
        await worker.kill();
        const killedAt = performance.now();
        const owner = randomUUID();
        while (!(await b.acquire({ key, owner, ttl: t(5000) })).granted) {
          expect(performance.now() - killedAt).toBeLessThan(t(1000));
          await delay(20);
        }
        expect(await b.release({ key, owner })).toBe(true);
      });
    } else {
      it('a holder killed with SIGKILL: its lock is free at its TTL, not before', async () => {
        const ttl = t(2000); // room for a starved child's heartbeat on a loaded machine
        const { key, worker, held } = await spawn('kill', ttl);
        await delay(t(400)); // its heartbeat has extended the lease at least once
        await worker.kill();
        const b = await make();
        // The holder's expiry lies between these two, whenever inside the call the store was read.
        const asked = performance.now();
        const seen = await b.inspect(key);
        const expiresAfter = asked + seen!.ttlRemaining!;
        const expiresBefore = performance.now() + seen!.ttlRemaining!;
        expect(seen?.owner).toBe(held.token);
        const owner = randomUUID();
        let granted: { sent: number; replied: number } | undefined;
        while (!granted) {
          const sent = performance.now();
          const r = await b.acquire({ key, owner, ttl: t(5000) });
          if (r.granted) granted = { sent, replied: performance.now() };
          else {
            expect(r.holder?.owner).toBe(held.token);
            await delay(10);
          }
        }
        expect(granted.replied).toBeGreaterThanOrEqual(expiresAfter - 2); // not before its TTL (ms rounding)
        expect(granted.sent - expiresBefore).toBeLessThan(t(1000)); // and promptly after, on a loaded machine
        if (b.guarantees.fencing) expect((await b.inspect(key))?.fence).toBeGreaterThan(held.fence!);
        expect(await b.release({ key, owner })).toBe(true);
      });
    }

    it('a holder frozen with SIGSTOP past its TTL: another takes over at about its TTL; on resume its signal fires at once and its heartbeat takes nothing back', async () => {
      const ttl = t(600);
      const { key, worker, held } = await spawn('freeze', ttl);
      await delay(ttl * 0.4); // its heartbeat has extended once, as a live holder's would
      worker.freeze();
      const frozenAt = performance.now();
      const b = await make();
      const successor = await lease(b, key, { ttl: t(10_000), wait: t(5000) });
      // Its last extension was at most a third of a TTL before the freeze: not free before that runs out.
      const freeAfter = performance.now() - frozenAt;
      expect(freeAfter).toBeGreaterThan(ttl / 2);
      expect(freeAfter).toBeLessThan(ttl + t(1500));
      if (b.guarantees.fencing) expect(successor.fence).toBeGreaterThan(held.fence!);
      expect(successor.token).not.toBe(held.token);
      await delay(t(200));
      const thawedAt = historyNow();
      worker.thaw();
      const lost = await worker.next<Lost>(isType('lost'), t(5000));
      // Its overdue timer runs first thing on resume and finds its validity gone, before its next
      // heartbeat would even be due (generous for a loaded machine).
      expect(lost.name).toBe('LockLostError');
      expect(lost.at - thawedAt).toBeLessThan(t(500));
      await options.afterThaw?.({ holder: worker, successor, key });
      await delay(t(100));
      expect((await b.inspect(key))?.owner).toBe(successor.token);
      expect(await successor.release()).toBe(true);
    });
  });
}
