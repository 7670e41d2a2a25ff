import type { PassStart } from './singleton-worker.js';
import { spread } from './stats.js';

/** A fault the lab made to the leader, with when it began (historyNow). */
export interface LoopFault {
  kind: 'kill' | 'stop' | 'cut';
  /** The leader it hit. */
  target: string;
  at: number;
  /** `cut`: connections dropped by the server. */
  dropped?: number;
}

/** What followed a fault: the next pass start, by another process (a takeover) or the same one. */
export interface FaultOutcome extends LoopFault {
  /**
   * ms from the fault to the next term's first pass (another process's, or after a cut the same
   * process's under a new fence: it lost its lease and took it again); `null`: none, or kept.
   */
  takeoverMs: number | null;
  /** A cut the leader survived: its next pass ran under the same lease (same process, same fence). */
  kept: boolean;
}

/**
 * Each fault with the first pass start after it. A kill or a stop must be followed by another
 * process's pass; after a cut, the leader may keep its lease (it reconnects) or lose it.
 */
export function faultOutcomes(faults: readonly LoopFault[], passes: readonly PassStart[]): FaultOutcome[] {
  const sorted = [...passes].sort((a, b) => a.at - b.at);
  return faults.map((f) => {
    const before = sorted.findLast((p) => p.at <= f.at && p.worker === f.target);
    const next = sorted.find((p) => p.at > f.at);
    const kept = f.kind === 'cut' && next?.worker === f.target && next.fence === before?.fence;
    // After a kill or a stop, only another process can lead next.
    const term = f.kind === 'cut' ? next : sorted.find((p) => p.at > f.at && p.worker !== f.target);
    return { ...f, kept, takeoverMs: term && !kept ? Math.round(term.at - f.at) : null };
  });
}

/**
 * Wake-ups and the pass that followed each: the first pass start after it. A wake-up is lost
 * when no pass starts within `boundMs`. One that a fault may have cost is counted apart: a fault
 * began between the wake-up and that pass (or within `boundMs` of a lost one), or the wake-up
 * came while a fault was under way (from a kill or stop until the next leader's first pass; a
 * cut's for a TTL, while the leader reconnects). Every other wake-up came while a leader lived:
 * none of those may be lost, and their time to the pass start is the wake-up's latency.
 */
export function wakeFigures(
  wakes: readonly number[],
  passes: readonly PassStart[],
  outcomes: readonly FaultOutcome[],
  ttl: number,
  boundMs: number,
) {
  const starts = passes.map((p) => p.at).sort((a, b) => a - b);
  const windows = outcomes.map((f) => ({
    at: f.at,
    to: f.at + (f.kind === 'cut' ? ttl : (f.takeoverMs ?? boundMs)),
  }));
  const first = starts[0] ?? Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  let lostLive = 0;
  let lostInFaults = 0;
  let inFaults = 0;
  let counted = 0;
  for (const w of wakes) {
    if (w < first) continue; // before anyone led: nothing to wake
    counted++;
    const next = starts.find((s) => s > w);
    const lost = next === undefined || next - w > boundMs;
    const end = lost ? w + boundMs : next;
    const faulted = windows.some((x) => (x.at >= w && x.at <= end) || (w >= x.at && w <= x.to));
    if (faulted) {
      inFaults++;
      if (lost) lostInFaults++;
    } else if (lost) lostLive++;
    else latencies.push(next - w);
  }
  return {
    sent: wakes.length,
    live: counted - inFaults,
    lostLive,
    inFaults,
    lostInFaults,
    boundMs,
    /** ms from a wake-up (sent while a leader lived) to the next pass start. */
    latency: spread(latencies),
  };
}

/**
 * In the counter store's own order of applied writes (each id names its pass), every pass's
 * writes must be one unbroken run: a pass whose writes resume after another pass's is two
 * bodies whose writes were both accepted at once. Returns those pairs.
 */
export function interleavedPasses(applied: readonly string[]): Array<{ pass: string; after: string }> {
  const passOf = (id: string) => id.slice(0, id.lastIndexOf(':'));
  const done = new Set<string>();
  const found: Array<{ pass: string; after: string }> = [];
  let current: string | undefined;
  for (const id of applied) {
    const pass = passOf(id);
    if (pass === current) continue;
    if (done.has(pass)) found.push({ pass, after: current! });
    if (current) done.add(current);
    current = pass;
  }
  return found;
}
