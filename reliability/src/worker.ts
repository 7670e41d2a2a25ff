// One torture contender, run as a child process (spawnWorker). It takes leases on a few keys
// and, inside each, increments that key's counter by read-modify-write, recording every hold
// and every write in the shared history. The parent freezes, kills and cuts it off at random.
//
//   node dist/worker.js '<WorkerConfig as JSON>'
//
// Messages from the parent: {type:'go'}, to begin the sections. To the parent: {type:'ready'},
// {type:'hold', key, owner} when a lease is granted, {type:'progress', tally} after every section, {type:'done', tally}, {type:'fatal', error} (a
// crash or an unhandled rejection: a finding).
import { appendFileSync } from 'node:fs';
import { type Lease, lease, OncelockError } from '@oncelock/core';
import { historyRecorder } from '@oncelock/testkit/history';
import { type CounterSpec, openCounter } from './counter/index.js';
import { delay } from './deadline.js';
import { emptyTally, type Tally, type WriteIntent } from './tally.js';
import { type BackendSpec, createBackend } from './targets.js';

export interface WorkerConfig {
  /** Unique per process incarnation: `w3.2` is slot 3's second process. */
  name: string;
  backend: BackendSpec;
  counter: CounterSpec;
  keys: string[];
  /** Critical sections to run (leases granted) before exiting. */
  sections: number;
  ttl: number;
  wait: number;
  /** Send `lease.fence` with every counter read and write. */
  fenced: boolean;
  /** Permits of each key (`lease` with `limit`); absent or 1: a plain lease. */
  limit?: number;
  /** Longest random pause between the read and the write, ms: it widens the race window. */
  thinkMs: number;
  /** The shared history file (JSON lines, testkit format). */
  history: string;
  /** Every write about to be sent (JSON lines of WriteIntent), for writes that get no answer. */
  intents: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const send = (message: unknown) => {
  if (process.connected) process.send?.(message);
};
process.on('disconnect', () => process.exit(0));
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    send({ type: 'fatal', event, error: String((error as Error)?.stack ?? error) });
    process.exit(70);
  });
}

const tally: Tally = emptyTally();
const rec = historyRecorder(config.history, config.name);
const backend = createBackend(config.backend);
const counter = await openCounter(config.counter, config.name);
const pick = () => config.keys[Math.floor(Math.random() * config.keys.length)]!;
let seq = 0;
send({ type: 'ready' });
// The parent says go once every contender is ready (see Seat.run).
await new Promise<void>((resolve) => {
  const go = (message: { type?: string } | null) => {
    if (message?.type !== 'go') return;
    process.off('message', go);
    resolve();
  };
  process.on('message', go);
});

while (tally.sections < config.sections) {
  const key = pick();
  let l: Lease;
  try {
    const limit = (config.limit ?? 1) > 1 ? { limit: config.limit } : {};
    l = await lease(backend, key, { ttl: config.ttl, wait: config.wait, ...limit });
  } catch (error) {
    count(tally.acquireErrors, error);
    await delay(5);
    continue;
  }
  tally.sections++;
  // The parent watches a killed holder's permit end: it needs the owner token (cleared by `progress`).
  send({ type: 'hold', key, owner: l.token });
  const held = rec.now();
  const fence = config.fenced ? l.fence : null;
  try {
    await section(l, key, fence);
  } finally {
    rec.hold(key, fence, held, rec.now());
    await l.release().catch((error: unknown) => count(tally.releaseErrors, error));
  }
  send({ type: 'progress', tally });
}
send({ type: 'done', tally });
await backend.close().catch(() => {});
await counter.close();
process.disconnect?.();

/** Read, think, write: the unprotected read-modify-write the lease must serialise. */
async function section(l: Lease, key: string, fence: number | null): Promise<void> {
  const id = `${config.name}:${++seq}`;
  let start = 0;
  let writing = false;
  try {
    l.assertHeld();
    start = rec.now();
    const value = await counter.read(key, fence);
    if (value === null) {
      tally.stale++;
      rec.write(key, fence, start, rec.now(), false);
      return;
    }
    if (config.thinkMs > 0) await delay(Math.random() * config.thinkMs);
    l.assertHeld(); // just before the protected write, as the README asks
    const intent: WriteIntent = { id, worker: config.name, key, fence, start };
    appendFileSync(config.intents, `${JSON.stringify(intent)}\n`);
    writing = true;
    const applied = await counter.write(key, fence, value + 1, id);
    rec.write(key, fence, start, rec.now(), applied);
    if (applied) tally.accepted++;
    else tally.stale++;
  } catch (error) {
    // A write sent without an answer may still land (a partition holds bytes, it does not lose them).
    if (writing) tally.unknown++;
    else count(tally.sectionErrors, error);
  }
}

function count(into: Record<string, number>, error: unknown): void {
  // Errors of the counter store's own client are not ours to classify further.
  const code = error instanceof OncelockError ? error.code : 'STORE_ERROR';
  into[code] = (into[code] ?? 0) + 1;
}
