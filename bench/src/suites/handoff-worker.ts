/** One contender process of the handoff suite: takes a key in a loop and logs when it got and gave it. */
import type { ArmSpec, LockArm } from '../arms/arm.js';
import { permitArms } from '../arms/permits.js';
import { postgresArms } from '../arms/postgres.js';
import { redisArms } from '../arms/redis.js';
import { now, sleep, wallNow } from '../clock.js';
import { serve } from '../workers.js';
import type { Contention, HandoffRequest } from './handoff-protocol.js';

const arms = new Map<string, LockArm>();
const name = (store: string, arm: string, limit?: number) => `${store}/${arm}/${limit ?? 1}`;

async function prepare(store: 'redis' | 'postgres', arm: string, url: string, limit?: number): Promise<void> {
  const specs: ArmSpec[] = limit
    ? permitArms(store, url, limit)
    : store === 'redis'
      ? redisArms(url)
      : postgresArms(url);
  const spec = specs.find((s) => s.id === arm);
  if (!spec) throw new Error(`no arm ${arm} for ${store}`);
  const made = await spec.make();
  // Connect and load scripts now, so that none of it is counted in a measured run.
  const held = await made.acquire(`bench:handoff:warmup:${process.pid}`, 1000, 0);
  await held?.release();
  arms.set(name(store, arm, limit), made);
}

/**
 * Until `ms` have passed: wait for the key, hold it `holdMs`, release it, then step aside for
 * `holdMs` so that the next grant goes to one of the waiters, not back to this process.
 */
async function contend(arm: LockArm, r: HandoffRequest): Promise<Contention> {
  const end = now() + r.ms;
  const grants: number[] = [];
  const releases: number[] = [];
  const errors: string[] = [];
  let waitedMs = 0;
  while (now() < end) {
    // A failed call (a timeout on an overloaded machine) is reported, and the run goes on.
    try {
      const asked = now();
      const held = await arm.acquire(r.key, r.ttl, Math.max(1, end - now()));
      waitedMs += now() - asked;
      if (!held) break;
      grants.push(wallNow());
      await sleep(r.holdMs);
      releases.push(wallNow());
      await held.release();
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
    await sleep(r.holdMs);
  }
  return { pid: process.pid, grants, releases, waitedMs, errors };
}

serve(async (body) => {
  const m = body as
    | HandoffRequest
    | { type: 'prepare'; store: 'redis' | 'postgres'; arm: string; url: string; limit?: number }
    | { type: 'close' };
  if (m.type === 'prepare') return prepare(m.store, m.arm, m.url, m.limit);
  if (m.type === 'run') {
    const arm = arms.get(name(m.store, m.arm, m.limit));
    if (!arm) throw new Error(`arm ${m.store}/${m.arm} was not prepared`);
    return contend(arm, m);
  }
  for (const arm of arms.values()) await arm.close().catch(() => {});
  arms.clear();
  return undefined;
});
