import type { HistoryEvent, HoldEvent } from '@oncelock/testkit/history';

/** What the history says about a key with `limit` permits: how many holders wrote at once. */
export interface PermitConcurrency {
  /** Holds that had an accepted write. */
  writers: number;
  /** The most holders of one key whose accepted writes were in progress at one instant. */
  most: number;
  /** Holders that began writing while `limit` others were already between grant and accepted write. */
  over: Array<{ key: string; worker: string; at: number; alongside: string[] }>;
}

/**
 * "Never more than `limit` holders with an accepted write at once." Each hold that had an
 * accepted (answered) write spans from its grant to the answer of its last accepted write: the
 * time in which it counted on its permit. A hold that outlived its permit (frozen, cut off)
 * without writing again does not count past its last write, so only a write the store accepted
 * can make a holder count. Spans are then swept per key; ends come before starts at one instant.
 */
export function permitConcurrency(history: readonly HistoryEvent[], limit: number): PermitConcurrency {
  const holds = history.filter((e): e is HoldEvent => e.type === 'hold');
  const writesOf = new Map<string, HistoryEvent[]>();
  for (const e of history) {
    if (e.type !== 'write' || !e.accepted) continue;
    const mine = writesOf.get(e.worker);
    if (mine) mine.push(e);
    else writesOf.set(e.worker, [e]);
  }
  type Span = { key: string; worker: string; start: number; end: number };
  const spans: Span[] = [];
  for (const h of holds) {
    let end = Number.NEGATIVE_INFINITY;
    for (const w of writesOf.get(h.worker) ?? [])
      if (w.key === h.key && w.start >= h.start && w.end <= h.end && w.end > end) end = w.end;
    if (end > Number.NEGATIVE_INFINITY) spans.push({ key: h.key, worker: h.worker, start: h.start, end });
  }
  const out: PermitConcurrency = { writers: spans.length, most: 0, over: [] };
  for (const key of new Set(spans.map((s) => s.key))) {
    const points = spans
      .filter((s) => s.key === key)
      .flatMap((s) => [
        { t: s.start, open: true, s },
        { t: s.end, open: false, s },
      ])
      .sort((a, b) => a.t - b.t || Number(a.open) - Number(b.open));
    const open = new Set<Span>();
    for (const p of points) {
      if (!p.open) {
        open.delete(p.s);
        continue;
      }
      if (open.size >= limit)
        out.over.push({ key, worker: p.s.worker, at: p.t, alongside: [...open].map((s) => s.worker) });
      open.add(p.s);
      out.most = Math.max(out.most, open.size);
    }
  }
  return out;
}
