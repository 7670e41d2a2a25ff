import { type ChainOutcome, chunkChain } from '@oncelock/bullmq';
import { type Worker as Child, spawnWorker } from '@oncelock/testkit/faults';
import { redisUrl } from '@oncelock/testkit/servers';
import { describe, expect, it } from 'vitest';
import { withRedisLocks, withWorkerProcesses } from './processes.js';
import { queueName, until } from './support.js';

// A chain walks ids 1..600 in chunks of 20 across worker processes with its cursor in Redis,
// while the test SIGKILLs whichever process has written half a chunk, three times. Locks are
// short so that a killed job is found stalled within about a second (lockDuration 1 s, stalled
// checks every 300 ms, claim TTL 400 ms).
const script = new URL('./fixtures/chain-worker.mjs', import.meta.url);
const worker = { concurrency: 1, lockDuration: 1_000, stalledInterval: 300 };
const policy = { ttl: 400, retryDelay: 50 };
const TOTAL = 600;
const CHUNK = 20;
const KILLS = 3;

interface Note {
  type: 'ready' | 'half' | 'stepped';
  pid: number;
  from?: number;
}

const t = withWorkerProcesses();
const locks = withRedisLocks();

/** The chunk a process has half written, if any. */
function chunkInFlight(child: Child): number | undefined {
  const last = (child.messages as Note[]).findLast((n) => n.type === 'half' || n.type === 'stepped');
  return last?.type === 'half' ? last.from : undefined;
}

describe('chunkChain across worker processes (cursor in Redis)', () => {
  it('resumes from the last saved cursor after SIGKILLs mid-chunk: every id processed, no committed chunk twice', async () => {
    const name = queueName('chain-kill');
    const queue = t.bench.queue(name);
    const log = `${name}:log`;
    const config = {
      queue: name,
      url: redisUrl,
      chunk: CHUNK,
      total: TOTAL,
      stepMs: 120,
      log,
      policy,
      worker,
    };
    const spawn = async () => {
      const child = spawnWorker(script, [JSON.stringify(config)]);
      await child.next((m) => (m as Note).type === 'ready', 20_000);
      return child;
    };
    let children: Child[] = await Promise.all([spawn(), spawn()]);
    // The trigger side: the same chain, whose step never runs here.
    const chain = chunkChain(queue, { backend: locks.backend, ...policy, start: 0, step: () => null });
    expect((await chain.trigger('backfill', {})).status).toBe('added');
    // A periodic trigger, as in production: it resumes a chain whose job failed for good.
    let triggering = true;
    const triggers = (async () => {
      while (triggering) {
        await chain.trigger('backfill', {});
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    // The chunk each victim was in when it was killed, as "<pid> <from>".
    const killed = new Set<string>();
    let lastKilledFrom = -1;
    try {
      for (let k = 0; k < KILLS; k++) {
        const victim = await until(
          () =>
            children.find((c) => {
              const from = chunkInFlight(c);
              return from !== undefined && from > lastKilledFrom + CHUNK;
            }),
          20_000,
          'a worker process in the middle of a later chunk',
        );
        lastKilledFrom = chunkInFlight(victim) as number;
        killed.add(`${victim.pid} ${lastKilledFrom}`);
        await victim.kill();
        children = [...children.filter((c) => c !== victim), await spawn()];
      }
      await until(
        async () => {
          const p = await chain.progress('backfill', {});
          return p?.caughtUp === true && p.cursor === TOTAL;
        },
        30_000,
        'the chain to catch up',
      );
    } finally {
      triggering = false;
      await triggers;
    }

    const p = await chain.progress('backfill', {});
    // Rows and chunks are counted only when a chunk's cursor is saved: each chunk committed once.
    expect(p).toMatchObject({ cursor: TOTAL, chunks: TOTAL / CHUNK, rows: TOTAL, caughtUp: true });

    const entries = (await locks.redis.lrange(log, 0, -1)).map((line) => {
      const [id, from, pid, fence] = line.split(' ').map(Number) as [number, number, number, number];
      return { id, from, attempt: `${pid}/${fence}`, killed: killed.has(`${pid} ${from}`) };
    });
    // Nothing lost: every id was processed.
    const ids = new Set(entries.map((e) => e.id));
    expect(ids.size).toBe(TOTAL);
    expect(Math.min(...ids)).toBe(1);
    expect(Math.max(...ids)).toBe(TOTAL);
    // Per chunk, the attempts that processed it: only a chunk in flight at a kill ran twice,
    // once in the killed process (uncommitted) and once after it; a live process never ran a
    // chunk that another attempt had run.
    const attempts = new Map<number, Set<string>>();
    const live = new Map<number, Set<string>>();
    for (const e of entries) {
      attempts.set(e.from, (attempts.get(e.from) ?? new Set()).add(e.attempt));
      if (!e.killed) live.set(e.from, (live.get(e.from) ?? new Set()).add(e.attempt));
    }
    const twice = [...attempts].filter(([, a]) => a.size > 1);
    expect(twice.length).toBeGreaterThan(0);
    expect(twice.length).toBeLessThanOrEqual(KILLS);
    for (const [from] of attempts) expect(live.get(from)?.size ?? 0, `chunk ${from}`).toBeLessThanOrEqual(1);
    // Every chunk a kill interrupted was run again in full by one attempt.
    for (const [from] of twice)
      expect(entries.filter((e) => e.from === from && !e.killed)).toHaveLength(CHUNK);
    // Within each attempt, each id once.
    const perAttempt = new Set(entries.map((e) => `${e.attempt}:${e.id}`));
    expect(perAttempt.size).toBe(entries.length);
    // The jobs that completed committed distinct chunks, in a chain with no gap.
    const outcomes = (await queue.getCompleted(0, -1))
      .map((j) => j.returnvalue as ChainOutcome<number> | { status: string })
      .filter((o): o is ChainOutcome<number> => !('status' in o) && o.next !== null);
    const committed = outcomes.map((o) => o.cursor);
    expect(new Set(committed).size).toBe(committed.length);
    expect(committed.length).toBeGreaterThanOrEqual(TOTAL / CHUNK - KILLS);
  });
});
