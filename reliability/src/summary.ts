import type { TortureReport } from './torture.js';

/** "1 key", "3 keys". */
export const keys = (n: number): string => `${n} key${n === 1 ? '' : 's'}`;

/** Faults injected, all kinds together. */
export const faultCount = (r: TortureReport): number => Object.values(r.faults).reduce((a, b) => a + b, 0);

/** One line per run, for logs and for RELIABILITY.md. */
export function summary(r: TortureReport): string {
  const f = r.findings;
  const faults = Object.entries(r.faults)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  return [
    `${r.lab}: ${r.options.workers} workers x ${r.options.sections} sections on ${keys(r.options.keys)} in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  sections ${r.tally.sections}, processes ${r.processes}, faults ${faultCount(r)} (${faults})`,
    `  writes accepted ${f.writes.accepted}, refused as stale ${f.writes.rejected}, unanswered ${f.unanswered.total} (applied ${f.unanswered.applied})`,
    `  late holds ${f.lateHolds} (overlapping ${f.holdOverlaps} others), write overlaps ${f.writeOverlaps}, fence regressions ${f.fenceRegressions}, lost updates ${f.lostUpdates}, unaccounted ${f.unaccounted}, stuck keys ${f.stuckKeys.length}, crashes ${r.crashes.length}`,
    ...(r.permits
      ? [
          `  limit ${r.permits.limit}: holders with an accepted write ${r.permits.writers}, at most ${r.permits.most} at once, over the limit ${r.permits.over.length}; killed holders' permits free after ${r.permits.freedAfterKill.join(', ') || 'none seen'} ms (late ${r.permits.lateFrees})`,
        ]
      : []),
    // A crash fails the run: its exit and first line say where to look.
    ...r.crashes.map(
      (c) =>
        `  crash ${c.worker}: exit ${c.exit.code ?? c.exit.signal}, ${(c.fatal ?? c.output).trim().split('\n')[0] ?? ''}`,
    ),
  ].join('\n');
}
