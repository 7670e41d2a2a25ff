import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wakeSingleton } from '@oncelock/core';
import { seededRandom } from '@oncelock/testkit/faults';
import { historyNow } from '@oncelock/testkit/history';
import { analyse, type Findings, readIntents, stuckKeys } from '../analyse.js';
import { openCounter } from '../counter/index.js';
import { delay } from '../deadline.js';
import { createBackend } from '../targets.js';
import { Fleet, type LoopCrash, loopScript } from './fleet.js';
import { type LoopLab, type LoopLabKind, openLoopLab } from './lab.js';
import {
  type FaultOutcome,
  faultOutcomes,
  interleavedPasses,
  type LoopFault,
  wakeFigures,
} from './singleton-checks.js';
import type { PassStart, SingletonWorkerConfig } from './singleton-worker.js';
import { between, spread } from './stats.js';

export interface SingletonTortureOptions {
  lab: LoopLabKind;
  /** Processes running the loop. The figure: 4. */
  processes: number;
  /** How long faults and wake-ups go on, ms. */
  durationMs: number;
  /** The loop's lease TTL, ms. */
  ttl: number;
  /** Fenced read-modify-writes per pass, and the longest pause inside each, ms. */
  writes: number;
  thinkMs: number;
  /** ms between the end of one fault and the next, drawn from the range. */
  faultEvery: readonly [number, number];
  /** ms between wake-ups from the parent. */
  wakeEvery: readonly [number, number];
  /** A wake-up with no pass start within this many ms is lost. */
  wakeBoundMs: number;
  seed: number;
}

/** The CI size: 15 s, a fault every 1.5-2.5 s in rotation (kill, stop, cut). */
export const ciSingletonOptions = (lab: LoopLabKind): SingletonTortureOptions => ({
  lab,
  processes: 4,
  durationMs: 15_000,
  ttl: 1000,
  // Passes of about 100 ms among wake-ups every 100-400 ms: a fault often lands mid-pass.
  writes: 5,
  thinkMs: 40,
  faultEvery: [1500, 2500],
  wakeEvery: [100, 400],
  wakeBoundMs: 2000,
  seed: 1,
});

/** The soak size: 60 s. */
export const soakSingletonOptions = (lab: LoopLabKind): SingletonTortureOptions => ({
  ...ciSingletonOptions(lab),
  durationMs: 60_000,
  seed: 2,
});

export interface SingletonTortureReport {
  options: SingletonTortureOptions;
  durationMs: number;
  /** Processes started: the first of each seat, and one after each kill. */
  processes: number;
  passes: number;
  faults: Record<LoopFault['kind'], number>;
  /** Each fault and what followed it. */
  outcomes: FaultOutcome[];
  /** Takeovers after a kill or a stop (and after a cut the leader did not survive), ms. */
  takeover: ReturnType<typeof spread>;
  /** Kills and stops that no other process took over from before the run ended. */
  noTakeover: number;
  wakes: ReturnType<typeof wakeFigures> & { errors: number };
  /** Pairs of passes whose writes interleave in the store's order of applied writes. */
  interleaved: Array<{ pass: string; after: string }>;
  findings: Findings;
  crashes: LoopCrash[];
  /** Pass starts, for a picture of the run. */
  timeline: Array<Pick<PassStart, 'worker' | 'fence' | 'at'>>;
  wakeTimes: number[];
  /** The run's start, on the history clock (times in `timeline` and `outcomes` are absolute). */
  began: number;
  kept?: string;
}

const LOOP = 'loop';

/**
 * The singleton torture: `processes` processes run one `singleton`, whose passes make fenced
 * writes, while the parent wakes it every few hundred ms and, every few seconds, SIGKILLs the
 * leader, SIGSTOPs it past its TTL, or has the server drop its connections (in rotation). Then:
 * the history's fences, the store's order of writes (never two bodies at once), every applied
 * write accounted for, the time to each takeover, and every wake-up followed by a pass.
 */
export async function singletonTorture(o: SingletonTortureOptions): Promise<SingletonTortureReport> {
  const script = loopScript('singleton-worker.js');
  const dir = mkdtempSync(join(tmpdir(), `oncelock-loop-${o.lab}-`));
  const files = {
    history: join(dir, 'history.jsonl'),
    intents: join(dir, 'intents.jsonl'),
    passes: join(dir, 'passes.jsonl'),
  };
  const lab = await openLoopLab(o.lab);
  const fleet = new Fleet(script, o.processes, (name) => {
    const config: SingletonWorkerConfig = {
      name,
      ...lab.spec(name),
      loop: LOOP,
      ttl: o.ttl,
      writes: o.writes,
      thinkMs: o.thinkMs,
      ...files,
    };
    return JSON.stringify(config);
  });
  const waker = createBackend(lab.direct.backend);
  const random = seededRandom(o.seed);
  const faults: LoopFault[] = [];
  const wakes: number[] = [];
  let wakeErrors = 0;
  try {
    await fleet.start();
    while (!fleet.leader && fleet.crashes.length === 0) await delay(20);
    const began = historyNow();
    const until = performance.now() + o.durationMs;
    const wakeLoop = (async () => {
      while (performance.now() < until) {
        wakes.push(historyNow());
        await wakeSingleton(waker, LOOP).catch(() => wakeErrors++);
        await delay(between(random, o.wakeEvery));
      }
    })();
    const kinds = ['kill', 'stop', 'cut'] as const;
    for (let i = 0; performance.now() < until; i++) {
      await delay(between(random, o.faultEvery));
      const target = fleet.leader;
      if (!target || performance.now() >= until) continue;
      const fault: LoopFault = { kind: kinds[i % kinds.length]!, target: target.name, at: historyNow() };
      faults.push(fault);
      if (fault.kind === 'kill') await fleet.kill(target);
      else if (fault.kind === 'cut') fault.dropped = await lab.cut(target.name);
      else {
        target.worker.freeze();
        await delay(Math.round(o.ttl * (1.5 + random() * 0.5)));
        target.worker.thaw();
      }
      // One fault at a time: the next waits until another process leads (or the cut leader goes on).
      const settle = performance.now() + o.ttl * 3;
      const led = () => fleet.leader !== undefined && fleet.leader.name !== target.name;
      while (fault.kind !== 'cut' && !led() && performance.now() < settle) await delay(20);
    }
    await wakeLoop;
    // A last moment for passes the last wake-ups asked for.
    await delay(o.wakeBoundMs);
    const durationMs = Math.round(historyNow() - began);
    await fleet.stop();
    const report = await check(lab, o, files, faults, wakes, wakeErrors, fleet, began, durationMs);
    if (singletonVerdict(report).ok && !process.env.ONCELOCK_KEEP)
      rmSync(dir, { recursive: true, force: true });
    else report.kept = dir;
    return report;
  } finally {
    await fleet.stop().catch(() => {});
    await waker.close().catch(() => {});
    await lab.stop();
  }
}

async function check(
  lab: LoopLab,
  o: SingletonTortureOptions,
  files: { history: string; intents: string; passes: string },
  faults: LoopFault[],
  wakes: number[],
  wakeErrors: number,
  fleet: Fleet,
  began: number,
  durationMs: number,
): Promise<SingletonTortureReport> {
  const passes = readLines<PassStart>(files.passes);
  const counter = await openCounter(lab.direct.counter, 'loop-check');
  const backend = createBackend(lab.direct.backend);
  try {
    const counters = await counter.state([LOOP]);
    const findings = analyse({
      historyFile: files.history,
      intents: readIntents(files.intents),
      counters,
      fenced: true,
      stuckKeys: await stuckKeys(backend, [LOOP], o.ttl),
    });
    const outcomes = faultOutcomes(faults, passes);
    const count = (kind: LoopFault['kind']) => faults.filter((f) => f.kind === kind).length;
    return {
      options: o,
      durationMs,
      processes: fleet.started,
      passes: passes.length,
      faults: { kill: count('kill'), stop: count('stop'), cut: count('cut') },
      outcomes,
      takeover: spread(outcomes.flatMap((f) => (f.takeoverMs === null ? [] : [f.takeoverMs]))),
      noTakeover: outcomes.filter((f) => f.kind !== 'cut' && f.takeoverMs === null).length,
      wakes: { ...wakeFigures(wakes, passes, outcomes, o.ttl, o.wakeBoundMs), errors: wakeErrors },
      interleaved: interleavedPasses(counters.get(LOOP)?.applied ?? []),
      findings,
      crashes: fleet.crashes,
      timeline: passes.map(({ worker, fence, at }) => ({ worker, fence, at })),
      wakeTimes: wakes,
      began,
    };
  } finally {
    await Promise.all([counter.close(), backend.close()]);
  }
}

function readLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** What a run must show. */
export function singletonVerdict(r: SingletonTortureReport): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  const f = r.findings;
  const limit = r.options.ttl + 1000;
  if (r.crashes.length > 0) problems.push(`${r.crashes.length} process crash(es)`);
  if (r.interleaved.length > 0) problems.push(`${r.interleaved.length} pass(es) interleaved with another's`);
  if (f.fenceRegressions > 0) problems.push(`${f.fenceRegressions} fence regression(s)`);
  if (f.lostUpdates !== 0) problems.push(`${f.lostUpdates} lost update(s)`);
  if (f.unaccounted !== 0) problems.push(`${f.unaccounted} applied write(s) unaccounted for`);
  if (f.stuckKeys.length > 0) problems.push('the loop key stuck after the run');
  if (r.noTakeover > 0) problems.push(`${r.noTakeover} kill(s)/stop(s) never taken over`);
  if ((r.takeover.max ?? 0) > limit) problems.push(`a takeover took ${r.takeover.max} ms, over TTL + 1 s`);
  if (r.wakes.lostLive > 0) problems.push(`${r.wakes.lostLive} wake-up(s) lost while a leader lived`);
  if (r.wakes.errors > 0) problems.push(`${r.wakes.errors} wakeSingleton call(s) failed`);
  for (const kind of ['kill', 'stop', 'cut'] as const)
    if (r.faults[kind] === 0) problems.push(`no ${kind} fault made`);
  return { ok: problems.length === 0, problems };
}

/** A few lines for logs. */
export function singletonSummary(r: SingletonTortureReport): string {
  const f = r.findings;
  const w = r.wakes;
  const kept = r.outcomes.filter((x) => x.kept).length;
  return [
    `singleton on ${r.options.lab}: ${r.options.processes} processes, ${Math.round(r.durationMs / 1000)} s, TTL ${r.options.ttl} ms, ${r.passes} passes, ${r.processes} processes started`,
    `  faults: kill ${r.faults.kill}, stop ${r.faults.stop}, cut ${r.faults.cut} (the leader kept its lease after ${kept} cut(s))`,
    `  takeover ms: p50 ${r.takeover.p50}, max ${r.takeover.max} (n ${r.takeover.n}); never taken over ${r.noTakeover}`,
    `  wake-ups: ${w.sent} sent, ${w.live} while a leader lived (lost ${w.lostLive}), ${w.inFaults} during faults (lost ${w.lostInFaults}); to a pass start p50 ${w.latency.p50} ms, max ${w.latency.max} ms`,
    `  writes accepted ${f.writes.accepted}, refused ${f.writes.rejected}, unanswered ${f.unanswered.total} (applied ${f.unanswered.applied}); interleaved passes ${r.interleaved.length}, fence regressions ${f.fenceRegressions}, write overlaps ${f.writeOverlaps}, lost updates ${f.lostUpdates}, unaccounted ${f.unaccounted}, crashes ${r.crashes.length}`,
    ...r.crashes.map((c) => `  crash ${c.name}: ${(c.fatal ?? c.output).trim().split('\n')[0] ?? ''}`),
  ].join('\n');
}
