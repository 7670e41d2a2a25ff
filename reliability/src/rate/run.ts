// The rate accuracy run: `processes` child processes ask for starts of one key at a multiple of
// its rate, optionally while the lab SIGKILLs them and cuts their connections at random; then
// the starts the store granted, stamped on its clock, are counted in every sliding window of
// `per`, beside what each process's own limiter would have let through.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RateRequest } from '@oncelock/core/backend';
import { seededRandom } from '@oncelock/testkit/faults';
import { Fleet, loopScript } from '../loops/fleet.js';
import { type LoopLabKind, openLoopLab } from '../loops/lab.js';
import type { Phase, RateChildConfig, RateRecord } from './child.js';
import { achieved, windowsOver } from './windows.js';

export interface RateRunOptions {
  readonly lab: LoopLabKind;
  readonly processes: number;
  readonly limit: number;
  readonly per: number;
  readonly burst: number;
  /** How far ahead a start may be reserved (`wait`); 0: now or not. */
  readonly reserve: number;
  /** Each process's asks per second, stretch by stretch (times from the run's start). */
  readonly phases: readonly Phase[];
  /** SIGKILLs and cut connections at random, about every `faultEveryMs`; 0: none. */
  readonly faultEveryMs: number;
  readonly seed: number;
}

/** Starts of one limiter: how many, the worst window of `per`, windows over `limit + burst`. */
export interface Starts {
  readonly starts: number;
  readonly worst: number;
  readonly violations: number;
}

export interface RateRunReport {
  readonly options: RateRunOptions;
  readonly seconds: number;
  readonly asks: number;
  /** The store's limit for the fleet, starts at their slots on the store's clock. */
  readonly fleet: Starts & { readonly achieved: number };
  /** A limiter in each process, each limited to `limit` on its own (its own clock). */
  readonly perWorker: Starts;
  /** Asks whose reply never came (a cut connection, a killed process's last ones). */
  readonly errors: number;
  readonly faults: { readonly kill: number; readonly cut: number };
  /** Processes started, replacements included, and those that ended without being told to. */
  readonly processesStarted: number;
  readonly crashes: number;
  /** The run's times from its start, for a picture: asks, the fleet's starts, per-worker starts. */
  readonly times?: { asked: number[]; fleet: number[]; perWorker: number[] };
}

const wall = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function rateRun(options: RateRunOptions, keepTimes = false): Promise<RateRunReport> {
  const { limit, per, burst, reserve } = options;
  const lab = await openLoopLab(options.lab);
  const dir = mkdtempSync(join(tmpdir(), 'oncelock-rate-'));
  const request: RateRequest = { key: `rate-${options.seed}`, limit, per, burst, reserve };
  let start = 0;
  const fleet = new Fleet(loopScript('../rate/child.js'), options.processes, (name) => {
    const config: RateChildConfig & { name: string } = {
      name,
      backend: lab.spec(name).backend,
      request,
      phases: options.phases,
      start,
      out: join(dir, `${name}.jsonl`),
    };
    return JSON.stringify(config);
  });
  const faults = { kill: 0, cut: 0 };
  try {
    await fleet.start();
    start = wall() + 200;
    await Promise.all(fleet.members.map((m) => m.worker.send({ type: 'go', start })));
    const end = start + (options.phases.at(-1)?.until ?? 0);
    if (options.faultEveryMs > 0) await torment(fleet, lab.cut, end, options, faults);
    // The last asks' replies, then every process stops.
    await sleep(Math.max(0, end - wall()) + 1_000);
    await fleet.stop();
    return analyse(readRecords(dir), options, start, faults, fleet, keepTimes);
  } finally {
    await fleet.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    await lab.stop();
  }
}

/** Until `end`: at random moments, SIGKILL a random process or cut its connections. */
async function torment(
  fleet: Fleet,
  cut: (name: string) => Promise<number>,
  end: number,
  options: RateRunOptions,
  faults: { kill: number; cut: number },
): Promise<void> {
  const random = seededRandom(options.seed);
  for (;;) {
    await sleep(options.faultEveryMs * (0.5 + random()));
    if (wall() >= end - 200) return;
    const members = fleet.members;
    const m = members[Math.floor(random() * members.length)];
    if (!m) continue;
    if (random() < 0.5) {
      faults.kill++;
      await fleet.kill(m);
    } else {
      faults.cut++;
      await cut(m.name);
    }
  }
}

function readRecords(dir: string): RateRecord[] {
  return readdirSync(dir).flatMap((file) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      // A SIGKILL may cut the last line short: it was no record.
      .flatMap((line) => {
        try {
          return line ? [JSON.parse(line) as RateRecord] : [];
        } catch {
          return [];
        }
      }),
  );
}

function analyse(
  records: readonly RateRecord[],
  options: RateRunOptions,
  start: number,
  faults: { kill: number; cut: number },
  fleet: Fleet,
  keepTimes: boolean,
): RateRunReport {
  const { limit, per, burst } = options;
  const of = (k: RateRecord['k']) =>
    records
      .filter((r) => r.k === k)
      .map((r) => r.t)
      .sort((a, b) => a - b);
  const [asked, granted, local] = [of('ask'), of('store'), of('local')];
  const most = limit + burst;
  const since = (ts: number[]) => ts.map((t) => Math.round((t - start) * 10) / 10);
  return {
    options,
    seconds: (options.phases.at(-1)?.until ?? 0) / 1000,
    asks: asked.length,
    fleet: {
      starts: granted.length,
      ...windowsOver(granted, per, most),
      achieved: achieved(granted, limit, per, burst),
    },
    perWorker: { starts: local.length, ...windowsOver(local, per, most) },
    errors: of('error').length,
    faults,
    processesStarted: fleet.started,
    crashes: fleet.crashes.length,
    ...(keepTimes && { times: { asked: since(asked), fleet: since(granted), perWorker: since(local) } }),
  };
}
