import { setTimeout as sleep } from 'node:timers/promises';
import { type Lease, LockLostError, lease } from '@oncelock/core';
import { historyNow, historyRecorder } from '@oncelock/testkit/history';
import { createBackend } from './backends.js';
import type { ParentMessage, WorkerConfig, WorkerMessage } from './protocol.js';
import { storeClient } from './store/client.js';

// A contender: a child process that takes the lease, writes to the protected resource with the
// fence a few times, releases, rests, and starts again, until told to stop. Every believed-held
// span and every write goes into the shared history file.

const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
const send = (m: WorkerMessage) => process.send?.(m);
const recorder = historyRecorder(config.history, config.name);
let stopping = false;
const stopped = new AbortController(); // cancels a wait for the lease when the lab says stop
let go: () => void;
const started = new Promise<void>((resolve) => {
  go = resolve;
});

process.on('message', (m: ParentMessage) => {
  if (m?.type === 'go') go();
  if (m?.type === 'stop') {
    stopping = true;
    stopped.abort();
  }
});
// The lab is gone (or crashed): leave nothing behind.
process.on('disconnect', () => process.exit(0));

const [backend, store] = await Promise.all([createBackend(config.backend), storeClient(config.store)]);
const fenced = backend.guarantees.fencing;
const problem = (error: unknown) =>
  send({
    type: 'problem',
    at: historyNow(),
    message: error instanceof Error ? error.message : String(error),
  });

/** One tenure: a few checked, fenced writes while the lease holds. */
async function hold(l: Lease): Promise<void> {
  const fence = fenced ? l.fence : null;
  const acquiredAt = historyNow();
  let lostAt: number | undefined;
  l.signal.addEventListener('abort', () => {
    lostAt ??= historyNow();
  });
  send({ type: 'acquired', at: acquiredAt, fence });
  try {
    for (let i = 0; i < config.writes && !stopping; i++) {
      l.assertHeld();
      send({ type: 'writing', at: historyNow() });
      // The check above passed; a pause here (GC, SIGSTOP) makes the write below stale.
      await sleep(config.thinkMs);
      const start = historyNow();
      const accepted = await store.write(config.key, fence, `${config.name}#${fence ?? '-'}#${i}`);
      recorder.write(config.key, fence, start, historyNow(), accepted);
      await sleep(config.writeEveryMs);
    }
  } catch (error) {
    if (!(error instanceof LockLostError)) problem(error);
  } finally {
    const lost = lostAt !== undefined;
    // The belief ends when the loss was seen, or now, as the release is sent.
    recorder.hold(config.key, fence, acquiredAt, lostAt ?? historyNow());
    send({ type: 'released', at: historyNow(), lost });
    await l.release().catch(() => false);
  }
}

async function main(): Promise<void> {
  send({ type: 'ready' });
  await started;
  while (!stopping) {
    let l: Lease | undefined;
    try {
      l = await lease(backend, config.key, { ttl: config.ttl, wait: config.ttl * 2, signal: stopped.signal });
    } catch (error) {
      // Contention (a wait that timed out) and being told to stop are normal; anything else is worth telling.
      const code = (error as { code?: string }).code;
      if (code !== 'ONCELOCK_WAIT_TIMEOUT' && code !== 'ONCELOCK_ABORTED') problem(error);
      await sleep(config.restMs);
      continue;
    }
    await hold(l);
    await sleep(config.restMs);
  }
}

main()
  .catch(problem)
  .finally(async () => {
    await Promise.allSettled([backend.close(), store.close()]);
    process.disconnect?.();
  });
