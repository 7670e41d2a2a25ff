import { existsSync, readFileSync } from 'node:fs';
import { BackendUnavailableError, type LockBackend, tryLease } from '@oncelock/core';
import { checkHistory, type HistoryEvent, historyNow, readHistory } from '@oncelock/testkit/history';
import type { CounterState } from './counter/index.js';
import type { WriteIntent } from './tally.js';

/** What the history and the counters say about one run. */
export interface Findings {
  /** Believed-held intervals, and writes (answered or resolved), in the history. */
  holds: number;
  writes: { accepted: number; rejected: number };
  /** Writes that got no answer (a cut connection, a kill mid-write), resolved from the store's applied ids. */
  unanswered: { total: number; applied: number; notApplied: number };
  /** Pairs of holders believing they held one key at once (a frozen or cut-off holder past its TTL). */
  holdOverlaps: number;
  /** Holds that outlived their lease: each overlapped one or more later holds of others. */
  lateHolds: number;
  /** Answered accepted writes on one key, from different workers, overlapping in time. */
  writeOverlaps: number;
  /** Accepted writes whose fence was lower than, or the same as another holder's, earlier one. */
  fenceRegressions: number;
  /** Applied increments the counters do not show: two read-modify-writes that read the same value. */
  lostUpdates: number;
  /**
   * Applied writes the store logged minus those the workers saw applied (answered, or resolved):
   * 0 unless the store lost an acknowledged write or applied one twice.
   */
  unaccounted: number;
  /** Keys still held, or not acquirable, a TTL after every worker had finished. */
  stuckKeys: string[];
  /** The checker's verdict for the backend's guarantees (`fenced` or not). */
  historyOk: boolean;
}

export function readIntents(file: string): WriteIntent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as WriteIntent);
}

/**
 * Writes that got no answer join the history as what they turned out to be. One that was applied
 * landed before the next applied write on its key did, so it is given that write's end (or, if
 * none followed, the end of the run): a late bound, which can reveal more overlaps, never hide one.
 */
export function resolveUnanswered(
  history: readonly HistoryEvent[],
  intents: readonly WriteIntent[],
  counters: ReadonlyMap<string, CounterState>,
): { events: HistoryEvent[]; unanswered: number; applied: number } {
  const answered = new Map<string, HistoryEvent>();
  for (const e of history) if (e.type === 'write') answered.set(`${e.worker}@${e.start}`, e);
  const byId = new Map(intents.map((i) => [i.id, i]));
  const now = historyNow();
  const events: HistoryEvent[] = [];
  let unanswered = 0;
  for (const i of intents) if (!answered.has(`${i.worker}@${i.start}`)) unanswered++;
  for (const [key, { applied }] of counters) {
    let nextEnd = now; // walking back from the last applied write
    for (let p = applied.length - 1; p >= 0; p--) {
      const intent = byId.get(applied[p]!);
      const seen = intent && answered.get(`${intent.worker}@${intent.start}`);
      if (seen) nextEnd = seen.end;
      else if (intent) {
        const { worker, fence, start } = intent;
        events.push({
          type: 'write',
          worker,
          key,
          fence,
          start,
          end: Math.max(start, nextEnd),
          accepted: true,
        });
      }
    }
  }
  return { events, unanswered, applied: events.length };
}

/**
 * Keys that a fresh contender cannot take within a few TTLs: a lock that outlived its holder.
 * A store error is not a stuck key (the store may be slow to recover from the last fault): the
 * key is tried again, until `giveUpMs`.
 */
export async function stuckKeys(
  backend: LockBackend,
  keys: readonly string[],
  ttl: number,
  limit = 1,
  giveUpMs = 15_000,
): Promise<string[]> {
  const stuck: string[] = [];
  for (const key of keys) {
    const until = performance.now() + giveUpMs;
    for (;;) {
      // Permits are probed as permits: a plain lease would be refused by the key's limit.
      const l = await tryLease(backend, key, { ttl, wait: ttl * 3, autoExtend: false, limit }).catch(
        (error: unknown) => {
          if (error instanceof BackendUnavailableError && performance.now() < until) return 'retry' as const;
          throw error;
        },
      );
      if (l === 'retry') continue;
      if (l) await l.release();
      else stuck.push(key);
      break;
    }
  }
  return stuck;
}

export function analyse(input: {
  historyFile: string;
  intents: readonly WriteIntent[];
  counters: ReadonlyMap<string, CounterState>;
  fenced: boolean;
  stuckKeys: string[];
}): Findings {
  const history = readHistory(input.historyFile);
  const resolved = resolveUnanswered(history, input.intents, input.counters);
  // Fences are checked with every applied write; overlaps are counted on answered writes only,
  // whose intervals are exact, so that a late bound does not inflate them.
  const report = checkHistory([...history, ...resolved.events], { fenced: input.fenced });
  const answered = checkHistory(history, { fenced: input.fenced });
  let applied = 0;
  let lostUpdates = 0;
  for (const { value, applied: ids } of input.counters.values()) {
    applied += ids.length;
    lostUpdates += ids.length - value;
  }
  return {
    holds: report.stats.holds,
    writes: { accepted: report.stats.accepted, rejected: report.stats.rejected },
    unanswered: {
      total: resolved.unanswered,
      applied: resolved.applied,
      notApplied: resolved.unanswered - resolved.applied,
    },
    holdOverlaps: answered.holdOverlaps.length,
    lateHolds: new Set(answered.holdOverlaps.map((o) => o.a)).size,
    writeOverlaps: answered.writeOverlaps.length,
    fenceRegressions: report.fenceRegressions.length,
    lostUpdates,
    unaccounted: applied - report.stats.accepted,
    stuckKeys: input.stuckKeys,
    historyOk: report.ok,
  };
}
