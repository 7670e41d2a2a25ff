import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Guarantees, LockBackend } from '@oncelock/core';
import { type ChaosFault, seededRandom, startChaos } from '@oncelock/testkit/faults';
import { readHistory } from '@oncelock/testkit/history';
import { analyse, type Findings, readIntents, stuckKeys } from './analyse.js';
import { openCounter } from './counter/index.js';
import { delay } from './deadline.js';
import { type Lab, type LabKind, openLab } from './labs/index.js';
import { type PermitConcurrency, permitConcurrency } from './permits.js';
import { type Crash, Seat, WORKER_SCRIPT } from './slots.js';
import { addTally, emptyTally, type Tally } from './tally.js';
import { createBackend } from './targets.js';

export interface TortureOptions {
  lab: LabKind;
  /** Contending processes. The figure: 8. */
  workers: number;
  /** Critical sections per worker. The figure: 2,000. */
  sections: number;
  /** How many keys they contend on. */
  keys: number;
  /** Lease TTL, ms. Freezes and partitions last 1.5 to 3 TTLs, so that leases do run out. */
  ttl: number;
  /** How long a worker waits for a key before counting a wait timeout and trying another. */
  wait: number;
  /** Longest pause between a section's read and its write, ms. */
  thinkMs: number;
  /** The gap between one fault and the next, in `faultUnit`s, drawn from `[min, max]`. */
  faultEvery: readonly [number, number];
  /**
   * `sections`: faults are spaced by critical sections completed, all seats together, so that a
   * fast backend's run sees as many faults as a slow one's. `ms` (default): by time.
   */
  faultUnit?: 'ms' | 'sections';
  /** `round-robin`: every kind of fault in turn, so that a short run sees each. Default `random`. */
  order: 'random' | 'round-robin';
  /**
   * Permits per key (`lease` with `limit`): up to this many holders at once. Absent or 1: plain
   * leases. With permits, the checks add: never more than `limit` holders with an accepted write
   * at once, and every killed holder's permit free again within its TTL plus 1 s.
   */
  limit?: number;
  /** Replays the fault schedule (which fault, which worker, how long); worker timing still varies. */
  seed: number;
  /** The run gives up (and reports a hang) after this long. */
  limitMs: number;
}

export interface TortureReport {
  lab: LabKind;
  guarantees: Guarantees;
  options: TortureOptions;
  durationMs: number;
  /** Summed over every worker process. */
  tally: Tally;
  /** Worker processes started (the first of each seat, plus one per kill). */
  processes: number;
  faults: Record<string, number>;
  faultErrors: string[];
  findings: Findings;
  /** Worker processes that died on their own: crashes, unhandled rejections. */
  crashes: Crash[];
  /** Seats that had not finished within `limitMs`, with what they last reported. */
  hung: string[];
  /** With `limit`: the permit checks. */
  permits?: PermitFindings;
  /** Where the history of a failed run (or any, with ONCELOCK_KEEP=1) was kept. */
  kept?: string;
}

/** What the permit checks found (see `TortureOptions.limit`). */
export interface PermitFindings extends PermitConcurrency {
  limit: number;
  /** Per killed holder whose permit was known: ms from the SIGKILL until the store no longer listed it. */
  freedAfterKill: number[];
  /** Killed holders whose permit was still listed after TTL + 1 s. */
  lateFrees: number;
}

/** The labs the permits torture runs on: those whose backend serves limits and whose lab it was checked on. */
export const limitLabs = ['redis', 'postgres-advisory'] as const satisfies readonly LabKind[];

/** What both permit runs share: one key, limit 3, a 1 s TTL. */
const permitShape = { keys: 1, limit: 3, ttl: 1000 } as const;

/**
 * Permits at CI size: 8 processes share one key with limit 3. Faults are spaced by sections, in
 * rotation (about 16 in 320 sections, every kind seen): spaced by time, a slow run on a loaded
 * machine drew 174, and the replacement processes of its kills took most of its 90 s.
 */
export const ciLimitOptions = (lab: LabKind): TortureOptions => ({
  ...ciOptions(lab),
  workers: 8,
  sections: 40,
  ...permitShape,
  thinkMs: 20,
  faultEvery: [12, 28],
  faultUnit: 'sections',
});

/** Permits at soak size: 8 processes x 1,000 sections on one key with limit 3, faults at random. */
export const soakLimitOptions = (lab: LabKind): TortureOptions => ({
  ...soakOptions(lab),
  sections: 1000,
  ...permitShape,
  thinkMs: 5,
  faultEvery: [20, 60],
  seed: 3,
});

export const ciOptions = (lab: LabKind): TortureOptions => ({
  lab,
  workers: 3,
  sections: 60,
  keys: 2,
  ttl: 400,
  wait: 10_000,
  thinkMs: 2,
  // Spaced by sections, in rotation: the fastest labs finish in about a second once every seat has
  // started, and spaced by time a run could end before the second fault (a connection fault)
  // found a seat with sections left. Every 15 to 35 of the 180 sections, the first two faults
  // (a freeze, then a partition) come well before the end on any backend.
  faultEvery: [15, 35],
  faultUnit: 'sections',
  order: 'round-robin',
  seed: 1,
  // Generous: a shared two-core machine under load takes seconds to start each replacement process.
  limitMs: 150_000,
});

export const soakOptions = (lab: LabKind): TortureOptions => ({
  lab,
  workers: 8,
  sections: 2000,
  keys: 3,
  ttl: 500,
  wait: 30_000,
  thinkMs: 2,
  // About 400 faults in 16,000 sections, on any backend: by time (300-1,500 ms), the Postgres
  // runs saw 350-540 but Redis, which finishes in under a minute, only 45.
  faultEvery: [20, 60],
  faultUnit: 'sections',
  order: 'random',
  seed: 2,
  limitMs: 90 * 60_000,
});

/**
 * The torture: `workers` processes run `sections` critical sections each on a few keys, each a
 * read-modify-write of a counter, while faults are injected at random: a worker frozen past its
 * TTL, killed and replaced, cut off from its stores (a partition, or every connection reset), and
 * the lab's server faults. Then the history and the counters are checked (see `analyse`).
 */
export async function torture(options: TortureOptions): Promise<TortureReport> {
  if (!existsSync(WORKER_SCRIPT)) {
    throw new Error(
      `${WORKER_SCRIPT} is missing: build first (pnpm turbo run build --filter=@oncelock/reliability...)`,
    );
  }
  const keys = Array.from({ length: options.keys }, (_, i) => `torture:${i}`);
  const dir = mkdtempSync(join(tmpdir(), `oncelock-torture-${options.lab}-`));
  const lab = await openLab(options.lab, options.workers, keys);
  const began = performance.now();
  try {
    const fenced = lab.guarantees.fencing;
    const seats = lab.slots.map(
      (slot, i) =>
        new Seat(i, slot, {
          keys,
          sections: options.sections,
          ttl: options.ttl,
          wait: options.wait,
          fenced,
          ...(options.limit ? { limit: options.limit } : {}),
          thinkMs: options.thinkMs,
          history: join(dir, 'history.jsonl'),
          intents: join(dir, 'intents.jsonl'),
        }),
    );
    const random = seededRandom(options.seed);
    const allReady = Promise.all(seats.map((seat) => seat.firstReady));
    const runs = seats.map((seat) => seat.run(allReady));
    await allReady;
    const bySections = options.faultUnit === 'sections';
    const freedAfterKill: number[] = [];
    const watcher = options.limit ? createBackend(lab.direct.backend) : undefined;
    const chaos = startChaos({
      faults: faultsOf(lab, seats, options.ttl, random, watcher && { backend: watcher, freedAfterKill }),
      every: options.faultEvery,
      unit: bySections ? 'steps' : 'ms',
      order: options.order,
      random,
    });
    // Seats call no one back, so their progress is read on a short interval (a few sections at
    // most in between, on the fastest backend).
    let counted = 0;
    const progress = bySections
      ? setInterval(() => {
          const done = seats.reduce((n, seat) => n + seat.sectionsDone, 0);
          if (done <= counted) return;
          chaos.step(done - counted);
          counted = done;
        }, 20)
      : undefined;
    const finished = Promise.all(runs).then(() => true);
    const inTime = await Promise.race([finished, delay(options.limitMs).then(() => false)]);
    clearInterval(progress);
    const summary = await chaos.stop();
    const hung = inTime ? [] : seats.filter((s) => s.remaining > 0).map((s) => s.describe());
    if (!inTime) await Promise.all(seats.map((s) => s.stop()));
    await Promise.all(runs.map((r) => Promise.race([r, delay(10_000)])));
    const durationMs = performance.now() - began;

    await watcher?.close();
    const findings = await check(
      lab,
      keys,
      join(dir, 'history.jsonl'),
      join(dir, 'intents.jsonl'),
      options.ttl,
      options.limit,
    );
    const limit = options.limit;
    const tally = emptyTally();
    for (const seat of seats) addTally(tally, seat.tally);
    const report: TortureReport = {
      lab: lab.kind,
      guarantees: lab.guarantees,
      options,
      durationMs: Math.round(durationMs),
      tally,
      processes: seats.reduce((n, s) => n + s.incarnations, 0),
      faults: summary.injected,
      faultErrors: summary.errors.map((e) => `${e.fault}: ${String(e.error)}`),
      findings,
      crashes: seats.flatMap((s) => s.crashes),
      hung,
      ...(limit
        ? {
            permits: {
              limit,
              ...permitConcurrency(readHistory(join(dir, 'history.jsonl')), limit),
              freedAfterKill,
              lateFrees: freedAfterKill.filter((ms) => ms > options.ttl + 1000).length,
            },
          }
        : {}),
    };
    // The files of a failed run (or of any, with ONCELOCK_KEEP=1) stay for a closer look.
    if (verdict(report).ok && !process.env.ONCELOCK_KEEP) rmSync(dir, { recursive: true, force: true });
    else report.kept = dir;
    return report;
  } finally {
    await lab.stop();
  }
}

/** Counters and stuck keys read directly (no proxies), then the history checked. */
async function check(
  lab: Lab,
  keys: string[],
  history: string,
  intents: string,
  ttl: number,
  limit?: number,
) {
  const counter = await openCounter(lab.direct.counter, 'oncelock-torture-check');
  const backend = createBackend(lab.direct.backend);
  try {
    return analyse({
      historyFile: history,
      intents: readIntents(intents),
      counters: await counter.state(keys),
      fenced: lab.guarantees.fencing,
      stuckKeys: await stuckKeys(backend, keys, ttl, limit),
    });
  } finally {
    await Promise.all([counter.close(), backend.close()]);
  }
}

/**
 * SIGKILLs the seat's process; if it held a permit, polls the store (every 20 ms, up to TTL + 3 s)
 * until that permit is no longer listed, and records how long that took.
 */
async function killAndWatch(
  seat: Seat,
  ttl: number,
  watch: { backend: LockBackend; freedAfterKill: number[] },
): Promise<boolean> {
  const held = seat.holding();
  const listed = async (key: string, owner: string) => {
    const h = await watch.backend.inspect(key).catch(() => undefined);
    // A store that cannot answer (a server fault in progress) has not shown the permit gone.
    if (h === undefined) return true;
    return (h?.holders ?? (h ? [h] : [])).some((x) => x.owner === owner);
  };
  // Only a permit the store still lists is watched: one its holder released just now proves nothing.
  const watched = held && (await listed(held.key, held.owner)) ? held : undefined;
  const killed = performance.now();
  if (!(await seat.kill())) return false;
  if (!watched) return true;
  while ((await listed(watched.key, watched.owner)) && performance.now() - killed < ttl + 3000)
    await delay(20);
  watch.freedAfterKill.push(Math.round(performance.now() - killed));
  return true;
}

/** The faults of a run. Each picks an idle seat at random, or does nothing if none is idle. */
function faultsOf(
  lab: Lab,
  seats: Seat[],
  ttl: number,
  random: () => number,
  watch?: { backend: LockBackend; freedAfterKill: number[] },
): Record<string, ChaosFault> {
  const idle = () => {
    const free = seats.filter((s) => !s.busy && s.worker && s.remaining > 0);
    return free.length === 0 ? undefined : free[Math.floor(random() * free.length)];
  };
  const longerThanTtl = () => Math.round(ttl * (1.5 + random() * 1.5));
  /** Runs `fault` on an idle seat, holding it busy until the fault is over; `false` from it: nothing done. */
  const onSeat =
    (fault: (seat: Seat) => Promise<unknown>): ChaosFault['run'] =>
    async () => {
      const seat = idle();
      if (!seat) return false;
      seat.busy = true;
      try {
        return (await fault(seat)) !== false;
      } finally {
        seat.busy = false;
      }
    };
  // Process and connection faults alternate, so that a round-robin run that ends after two faults
  // (a fast run of the CI size) has seen one of each.
  const faults: Record<string, ChaosFault> = {
    freeze: {
      weight: 3,
      run: onSeat(async (seat) => {
        const worker = seat.worker!;
        worker.freeze();
        await delay(longerThanTtl());
        worker.thaw();
      }),
    },
    partition: {
      weight: 3,
      run: onSeat(async (seat) => {
        for (const p of seat.slot.proxies) p.blackhole(true);
        await delay(longerThanTtl());
        for (const p of seat.slot.proxies) p.blackhole(false);
      }),
    },
    kill: { weight: 2, run: onSeat((seat) => (watch ? killAndWatch(seat, ttl, watch) : seat.kill())) },
    reset: {
      weight: 2,
      run: onSeat(async (seat) => {
        for (const p of seat.slot.proxies) p.reset();
      }),
    },
  };
  // One server fault at a time: two restarts of one server would trip over each other.
  let serverBusy = false;
  for (const [name, fault] of Object.entries(lab.serverFaults)) {
    faults[name] = {
      weight: 1,
      run: async () => {
        if (serverBusy) return false;
        serverBusy = true;
        try {
          return await onSeat((seat) => fault(seat.index))();
        } finally {
          serverBusy = false;
        }
      },
    };
  }
  return faults;
}

/** What a run must show, given what its backend promises. */
export function verdict(report: TortureReport): { ok: boolean; problems: string[] } {
  const f = report.findings;
  const problems: string[] = [];
  if (report.crashes.length > 0) problems.push(`${report.crashes.length} worker crash(es)`);
  if (report.hung.length > 0) problems.push(`did not finish in time: ${report.hung.join('; ')}`);
  if (f.stuckKeys.length > 0) problems.push(`stuck keys: ${f.stuckKeys.join(', ')}`);
  if (f.unaccounted !== 0) problems.push(`${f.unaccounted} applied write(s) unaccounted for`);
  if (report.faultErrors.length > 0) problems.push(`fault errors: ${report.faultErrors.join('; ')}`);
  const p = report.permits;
  if (p && p.over.length > 0)
    problems.push(
      `${p.over.length} time(s) more than ${p.limit} holders with an accepted write (at most ${p.most})`,
    );
  if (p && p.lateFrees > 0)
    problems.push(`${p.lateFrees} killed holder(s)' permit not free within TTL + 1 s`);
  // Fences are the promise that survives freezes and partitions; the lock alone is not, on any
  // lease-based backend. Backends without fences are measured, not judged.
  if (report.guarantees.fencing) {
    if (!f.historyOk) problems.push(`${f.fenceRegressions} fence regression(s)`);
    if (f.lostUpdates !== 0) problems.push(`${f.lostUpdates} lost update(s)`);
  }
  return { ok: problems.length === 0, problems };
}
