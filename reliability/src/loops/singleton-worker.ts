// One process of the singleton torture's fleet, run as a child process:
//
//   node dist/loops/singleton-worker.js '<SingletonWorkerConfig as JSON>'
//
// It runs one `singleton` whose body, on each pass, makes a few fenced read-modify-writes of the
// lab's counter, each write's id naming its pass. Every pass start goes to the passes file (and
// to the parent, which so knows the leader); every hold and write to the shared history.
import { appendFileSync } from 'node:fs';
import { singleton } from '@oncelock/core';
import { historyRecorder } from '@oncelock/testkit/history';
import { type CounterSpec, openCounter } from '../counter/index.js';
import { delay } from '../deadline.js';
import type { WriteIntent } from '../tally.js';
import { type BackendSpec, createBackend } from '../targets.js';
import { childProcess, send } from './child.js';

export interface SingletonWorkerConfig {
  name: string;
  backend: BackendSpec;
  counter: CounterSpec;
  /** The loop's name, which is also the counter's key. */
  loop: string;
  ttl: number;
  /** Read-modify-writes per pass. */
  writes: number;
  /** Longest random pause between a read and its write, ms. */
  thinkMs: number;
  history: string;
  intents: string;
  /** Pass starts, as JSON lines of {@link PassStart}. */
  passes: string;
}

/** A pass started: by whom, under which fence, when (historyNow). */
export interface PassStart {
  worker: string;
  pass: string;
  fence: number;
  at: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as SingletonWorkerConfig;
const rec = historyRecorder(config.history, config.name);
const backend = createBackend(config.backend);
const counter = await openCounter(config.counter, config.name);
const key = config.loop;
let passNo = 0;

// Passes only on wake-ups and takeovers: an interval longer than any run, so that a pass that
// follows a wake-up shows the wake-up arrived.
const loop = singleton(
  backend,
  config.loop,
  async ({ signal, fence }) => {
    const pass = `${config.name}#${++passNo}`;
    const began = rec.now();
    appendFileSync(config.passes, `${JSON.stringify({ worker: config.name, pass, fence, at: began })}\n`);
    send({ type: 'pass', at: began, fence });
    try {
      for (let i = 0; i < config.writes && !signal.aborted; i++)
        if (!(await readModifyWrite(fence, `${pass}:${i}`))) break;
    } finally {
      rec.hold(key, fence, began, rec.now());
    }
    return 'idle';
  },
  { interval: 3_600_000, ttl: config.ttl, onError: () => {} },
);
childProcess(() => loop.stop());
send({ type: 'ready' });

/** One fenced increment; `false` once the counter refuses the fence (a newer leader wrote). */
async function readModifyWrite(fence: number, id: string): Promise<boolean> {
  const start = rec.now();
  const value = await counter.read(key, fence);
  if (value === null) {
    rec.write(key, fence, start, rec.now(), false);
    return false;
  }
  await delay(Math.random() * config.thinkMs);
  const intent: WriteIntent = { id, worker: config.name, key, fence, start };
  appendFileSync(config.intents, `${JSON.stringify(intent)}\n`);
  const applied = await counter.write(key, fence, value + 1, id);
  rec.write(key, fence, start, rec.now(), applied);
  return applied;
}
