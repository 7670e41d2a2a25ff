import { setTimeout as sleep } from 'node:timers/promises';
import type { TcpProxy, Worker } from '@oncelock/testkit/faults';
import { historyNow } from '@oncelock/testkit/history';
import type { LabEnv } from './env.js';

export type ScenarioName = 'kill' | 'freeze' | 'cut' | 'restart' | 'latency';
export const scenarioNames: readonly ScenarioName[] = ['kill', 'freeze', 'cut', 'restart', 'latency'];

/** A fault's place on the timeline: a moment (`end` absent) or a span. */
export interface Mark {
  label: string;
  start: number;
  end?: number;
  /** The worker it was aimed at, if one. */
  worker?: string;
}

export interface FaultContext {
  env: LabEnv;
  ttl: number;
  names: readonly string[];
  workers: readonly Worker[];
  proxies: ReadonlyArray<readonly TcpProxy[]>;
  /** Resolves the index of a worker that has just passed its `assertHeld()` check and is about to write. */
  aboutToWrite(): Promise<number>;
  /** A worker that the lab killed: its open tenure ends now. */
  killed(index: number, at: number): void;
}

export interface Scenario {
  name: ScenarioName;
  /** One line for the report. */
  title: string;
  applies(env: LabEnv): boolean;
  /** Makes the fault, waits while it lasts, and resolves its marks. */
  inject(c: FaultContext): Promise<Mark[]>;
}

const always = () => true;

/** Turns a fault on for 2.5 TTLs, aimed at a holder just past its check, and marks the span. */
async function atHolder(
  c: FaultContext,
  label: string,
  fault: (i: number, on: boolean) => void,
): Promise<Mark[]> {
  const i = await c.aboutToWrite();
  const start = historyNow();
  fault(i, true);
  await sleep(c.ttl * 2.5);
  fault(i, false);
  return [{ label: `${label} ${c.names[i]}`, start, end: historyNow(), worker: c.names[i]! }];
}

export const scenarios: Record<ScenarioName, Scenario> = {
  kill: {
    name: 'kill',
    title: 'the holder is killed with SIGKILL mid-tenure',
    applies: always,
    async inject(c) {
      const i = await c.aboutToWrite();
      const at = historyNow();
      await c.workers[i]!.kill();
      c.killed(i, at);
      return [{ label: `SIGKILL ${c.names[i]}`, start: at, worker: c.names[i]! }];
    },
  },
  freeze: {
    name: 'freeze',
    title: 'the holder is frozen (SIGSTOP) for 2.5 TTLs between its check and its write, then resumed',
    applies: always,
    inject: (c) =>
      atHolder(c, 'SIGSTOP..SIGCONT', (i, on) => (on ? c.workers[i]!.freeze() : c.workers[i]!.thaw())),
  },
  cut: {
    name: 'cut',
    title:
      "the holder's connections to the lock store go silent for 2.5 TTLs (a partition): its extensions fail",
    applies: always,
    inject: (c) =>
      atHolder(c, 'partition', (i, on) => {
        for (const p of c.proxies[i]!) p.blackhole(on);
      }),
  },
  restart: {
    name: 'restart',
    title: 'the Redis server is restarted mid-tenure without persistence (Redlock: one node of three)',
    applies: (env) => env.canRestart,
    async inject(c) {
      await c.aboutToWrite();
      const start = historyNow();
      await c.env.restart();
      return [{ label: 'Redis restarted', start, end: historyNow() }];
    },
  },
  latency: {
    name: 'latency',
    title:
      'every connection to the lock store slows down in steps, to a round trip of 0.3, 0.6 and 0.9 TTL, 2 TTLs each',
    applies: always,
    async inject(c) {
      await c.aboutToWrite();
      const all = c.proxies.flat();
      const marks: Mark[] = [];
      for (const rtt of [0.3, 0.6, 0.9]) {
        const start = historyNow();
        for (const p of all) p.setLatency(Math.round((c.ttl * rtt) / 2));
        await sleep(c.ttl * 2);
        marks.push({ label: `RTT ${rtt} TTL`, start, end: historyNow() });
      }
      for (const p of all) p.setLatency(0);
      return marks;
    },
  },
};
