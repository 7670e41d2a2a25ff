// One process of the rate accuracy run. It asks for starts of one key at random moments (a
// Poisson process at the phase's rate) until the run's end, and for each ask decides twice:
// - by the store's rate limit (`backend.rateLimit`, the op core's rateLimit calls), a granted
//   start stamped with the decision's `at`, the slot on the store's clock;
// - by a limiter of its own (core's reference GCRA on this process's clock), as a per-worker
//   limiter such as Celery's rate_limit does.
// Every record is written to the process's file before it goes on (writeSync), so a SIGKILL
// loses none that was made. Its one argument is a JSON RateChildConfig.
import { openSync, writeSync } from 'node:fs';
import { gcra, type RateRequest } from '@oncelock/core/backend';
import { childProcess, send } from '../loops/child.js';
import { type BackendSpec, createBackend } from '../targets.js';

/** A stretch of the run in which each process asks `perSecond` times a second, until `until` ms. */
export interface Phase {
  readonly until: number;
  readonly perSecond: number;
}

export interface RateChildConfig {
  readonly backend: BackendSpec;
  readonly request: RateRequest;
  readonly phases: readonly Phase[];
  /** The run's start, in wall-clock ms (performance.timeOrigin + performance.now()); 0: sent later. */
  readonly start: number;
  /** This process's record file: one JSON line per ask, store start, local start or error. */
  readonly out: string;
}

/** One line of a record file: `ask`, `store` (granted by the store, `t` its slot), `local`, `error`. */
export interface RateRecord {
  readonly k: 'ask' | 'store' | 'local' | 'error';
  readonly t: number;
  readonly p: string;
}

const config = JSON.parse(process.argv[2] as string) as RateChildConfig & { name: string };
const backend = createBackend(config.backend);
const fd = openSync(config.out, 'a');
const record = (k: RateRecord['k'], t: number) =>
  writeSync(fd, `${JSON.stringify({ k, t, p: config.name })}\n`);
const wall = () => performance.timeOrigin + performance.now();
const inFlight = new Set<Promise<void>>();
let stopping = false;
childProcess(async () => {
  stopping = true;
  await Promise.all(inFlight);
  await backend.close();
});

const end = config.phases.at(-1)?.until ?? 0;
const rateAt = (t: number) => config.phases.find((p) => t < p.until)?.perSecond ?? 0;
let localTat: number | undefined;

function ask(): void {
  const now = wall();
  record('ask', now);
  const local = gcra(localTat, now, config.request);
  if (local.decision.allowed) {
    localTat = local.tat;
    record('local', local.decision.at);
  }
  // A reply lost to a cut connection is no start: its slot goes unused, which only lowers the rate.
  const asked = (backend.rateLimit as NonNullable<typeof backend.rateLimit>)(config.request).then(
    (d) => void (d.allowed && record('store', d.at)),
    () => void record('error', wall()),
  );
  inFlight.add(asked);
  void asked.finally(() => inFlight.delete(asked));
}

send({ type: 'ready' });
// The first processes learn the start once all are ready (0 here); one that replaces a killed
// process knows it and asks at once.
const start =
  config.start ||
  (await new Promise<number>((resolve) => {
    process.on('message', (m: { type?: string; start?: number }) => m.type === 'go' && resolve(m.start ?? 0));
  }));
await new Promise((resolve) => setTimeout(resolve, Math.max(0, start - wall())));
for (let t = wall() - start; t < end && !stopping; t = wall() - start) {
  const rate = rateAt(t);
  // The next ask of a Poisson process at this phase's rate.
  const gap = rate > 0 ? (-Math.log(1 - Math.random()) / rate) * 1000 : end - t;
  await new Promise((resolve) => setTimeout(resolve, Math.min(gap, end - t)));
  if (wall() - start < end && !stopping) ask();
}
await Promise.all(inFlight);
send({ type: 'done' });
