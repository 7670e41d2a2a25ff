import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { WaitTimeoutError } from '@oncelock/core';
import { spawnWorker, type TcpProxy, type Worker } from '@oncelock/testkit/faults';
import { type HistoryEvent, historyNow, historyRecorder, readHistory } from '@oncelock/testkit/history';
import type { LabEnv } from './env.js';
import { isMessage, type ParentMessage, type WorkerConfig, type WorkerMessage } from './protocol.js';
import type { Mark, Scenario } from './scenarios.js';
import { ParentStore } from './store/parent.js';
import { PKG } from './where.js';

export interface RunSettings {
  workers: number;
  ttl: number;
  /** Directory for the history files. */
  dir: string;
  writes: number;
  writeEveryMs: number;
  thinkMs: number;
  restMs: number;
  /** How long the run goes on after the fault, in TTLs. */
  afterTtls: number;
}

export interface RunOutput {
  backend: LabEnv['kind'];
  scenario: Scenario['name'];
  fenced: boolean;
  ttl: number;
  names: string[];
  t0: number;
  t1: number;
  events: HistoryEvent[];
  marks: Mark[];
  /** Errors the workers reported (store unreachable and the like), by worker. */
  problems: Array<{ worker: string; at: number; message: string }>;
}

// The compiled worker, from src/ (tests) and dist/ alike.
const workerScript = fileURLToPath(new URL('../dist/worker.js', import.meta.url));

/** One scenario on one backend: start the workers, let them contend, make the fault, collect the history. */
export async function runScenario(env: LabEnv, scenario: Scenario, s: RunSettings): Promise<RunOutput> {
  const key = `lab-${scenario.name}`;
  const history = join(s.dir, `${env.kind}-${scenario.name}.history.jsonl`);
  rmSync(history, { force: true });
  await env.reset(key);
  const names = Array.from({ length: s.workers }, (_, i) => `w${i + 1}`);
  const links: Array<{ proxies: TcpProxy[]; worker: Worker }> = [];
  const store = new ParentStore();
  const serving: Promise<void>[] = [];
  const marks: Mark[] = [];
  let t0 = historyNow();
  try {
    for (const name of names) {
      const { spec, proxies } = await env.connect();
      const config: WorkerConfig = {
        name,
        backend: spec,
        store: env.store,
        key,
        ttl: s.ttl,
        history,
        writes: s.writes,
        writeEveryMs: s.writeEveryMs,
        thinkMs: s.thinkMs,
        restMs: s.restMs,
      };
      const worker = spawnWorker(workerScript, [JSON.stringify(config)]);
      links.push({ proxies, worker });
      if (env.store.kind === 'parent') serving.push(store.serve(worker, key));
    }
    const workers = links.map((l) => l.worker);
    await Promise.all(workers.map((w) => w.next(isMessage('ready'), 30_000)));
    t0 = historyNow();
    for (const w of workers) await w.send({ type: 'go' } satisfies ParentMessage);
    const faultDeadline = s.ttl * 20 + 10_000;
    marks.push(
      ...(await scenario.inject({
        env,
        ttl: s.ttl,
        names,
        workers,
        proxies: links.map((l) => l.proxies),
        aboutToWrite: () => aboutToWrite(workers, faultDeadline),
        killed: (i, at) => closeOpenTenure(workers[i]!, history, names[i]!, key, at),
      })),
    );
    await sleep(s.ttl * s.afterTtls);
  } finally {
    // Asked first, so that each worker ends its tenure and records it; signalled only if it lingers.
    for (const { worker } of links)
      await worker.send({ type: 'stop' } satisfies ParentMessage).catch(() => {});
    const grace = sleep(s.ttl * 3 + 3_000, undefined, { ref: false });
    await Promise.all(links.map(({ worker }) => Promise.race([worker.exited, grace])));
    await Promise.all(links.map(({ worker }) => worker.stop(1_000)));
    await Promise.all(links.flatMap(({ proxies }) => proxies.map((p) => p.close())));
    await Promise.all(serving);
  }
  const problems = links.flatMap(({ worker }, i) =>
    worker.messages
      .filter(isMessage('problem'))
      .map((m) => ({ worker: names[i]!, at: m.at, message: m.message })),
  );
  return {
    backend: env.kind,
    scenario: scenario.name,
    fenced: env.fenced,
    ttl: s.ttl,
    names,
    t0,
    t1: historyNow(),
    events: existsSync(history) ? readHistory(history) : [],
    marks,
    problems,
  };
}

/**
 * The first worker to announce, after this call, that it passed its check and is about to write.
 * Reads the message logs rather than taking messages, so nothing else misses them.
 */
async function aboutToWrite(workers: readonly Worker[], timeoutMs: number): Promise<number> {
  const seen = workers.map((w) => w.messages.length);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    for (const [i, w] of workers.entries()) {
      if (w.messages.slice(seen[i]).some(isMessage('writing'))) return i;
    }
    if (performance.now() > deadline)
      throw new WaitTimeoutError('a worker about to write', timeoutMs, { pkg: PKG });
    await sleep(1);
  }
}

/** A killed worker cannot record the tenure it was in: the lab records it, ending at the kill. */
function closeOpenTenure(worker: Worker, history: string, name: string, key: string, at: number): void {
  const log = worker.messages as WorkerMessage[];
  const lastAcquired = log.findLastIndex(isMessage('acquired'));
  if (lastAcquired < 0 || log.slice(lastAcquired).some(isMessage('released'))) return;
  const m = log[lastAcquired] as Extract<WorkerMessage, { type: 'acquired' }>;
  historyRecorder(history, name).hold(key, m.fence, m.at, at);
}
