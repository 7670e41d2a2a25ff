import { checkHistory, type HoldEvent, type WriteEvent } from '@oncelock/testkit/history';
import type { RunOutput } from './run.js';

/** What one run showed, in figures. Times in ms. */
export interface RunResult {
  backend: RunOutput['backend'];
  scenario: RunOutput['scenario'];
  fenced: boolean;
  ttl: number;
  tenures: number;
  writes: number;
  accepted: number;
  rejected: number;
  /** Pairs of workers that believed they held the lock at the same time, and for how long in all. */
  holdOverlaps: number;
  overlapMs: number;
  /** Writes sent after another worker had taken the lock over, and how the store answered them. */
  staleWrites: number;
  staleAccepted: number;
  staleRejected: number;
  /** Writes from the newest holder that the store refused (a fence that went backwards would do it). */
  freshRejected: number;
  /** Accepted writes of two workers overlapping in time. */
  writeOverlaps: number;
  /** Accepted writes whose fence was older than one the store had already accepted (testkit's checker). */
  fenceRegressions: number;
  /** From the fault to the next tenure of a worker other than the one holding when it struck. */
  takeoverMs: number | null;
  problems: number;
  firstProblem?: string;
  /** Fenced: the checker found no regression. Unfenced: no stale write accepted, no accepted writes overlapping. */
  clean: boolean;
}

/** The tenure a write belongs to: its writer's latest hold that began before it. */
function tenureOf(w: WriteEvent, holds: readonly HoldEvent[]): HoldEvent | undefined {
  let best: HoldEvent | undefined;
  for (const h of holds)
    if (h.worker === w.worker && h.start <= w.start && (!best || h.start > best.start)) best = h;
  return best;
}

export function analyse(run: RunOutput): RunResult {
  const holds = run.events.filter((e): e is HoldEvent => e.type === 'hold');
  const writes = run.events.filter((e): e is WriteEvent => e.type === 'write');
  const report = checkHistory(run.events, { fenced: run.fenced });
  let staleAccepted = 0;
  let staleRejected = 0;
  let freshRejected = 0;
  for (const w of writes) {
    const mine = tenureOf(w, holds);
    const stale = holds.some(
      (h) => h.worker !== w.worker && h.start > (mine?.start ?? -Infinity) && h.start <= w.start,
    );
    if (stale && w.accepted) staleAccepted++;
    else if (stale) staleRejected++;
    else if (!w.accepted) freshRejected++;
  }
  const fault = run.marks[0];
  let takeoverMs: number | null = null;
  if (fault) {
    const holder = holds.find((h) => h.start <= fault.start && h.end >= fault.start)?.worker ?? fault.worker;
    const next = holds
      .filter((h) => h.worker !== holder && h.start >= fault.start)
      .sort((a, b) => a.start - b.start)[0];
    if (next) takeoverMs = Math.round(next.start - fault.start);
  }
  const overlapMs = report.holdOverlaps.reduce((sum, { a, b }) => sum + Math.min(a.end, b.end) - b.start, 0);
  return {
    backend: run.backend,
    scenario: run.scenario,
    fenced: run.fenced,
    ttl: run.ttl,
    tenures: holds.length,
    writes: writes.length,
    accepted: report.stats.accepted,
    rejected: report.stats.rejected,
    holdOverlaps: report.holdOverlaps.length,
    overlapMs: Math.round(overlapMs),
    staleWrites: staleAccepted + staleRejected,
    staleAccepted,
    staleRejected,
    freshRejected,
    writeOverlaps: report.writeOverlaps.length,
    fenceRegressions: report.fenceRegressions.length,
    takeoverMs,
    problems: run.problems.length,
    ...(run.problems[0] ? { firstProblem: `${run.problems[0].worker}: ${run.problems[0].message}` } : {}),
    clean: run.fenced ? report.ok : staleAccepted === 0 && report.writeOverlaps.length === 0,
  };
}
