import type { Holder } from '@oncelock/core';

/** One node's answer: its value, or the error it failed with (an outage, a timeout). */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

export function outcome<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true, value }) as const,
    (error: unknown) => ({ ok: false, error }) as const,
  );
}

/** Majority of `n`: two of three, three of five. */
export const quorumOf = (n: number) => Math.floor(n / 2) + 1;

/**
 * Resolves with the first verdict `decide` gives as answers come in (`decide` sees the answers
 * so far and how many nodes are still to answer, and must give one once none are). A slow or
 * frozen node then delays nothing once the outcome no longer depends on it.
 */
export function firstVerdict<T, V>(
  answers: ReadonlyArray<Promise<Outcome<T>>>,
  decide: (settled: ReadonlyArray<Outcome<T>>, pending: number) => V | undefined,
): Promise<V> {
  return new Promise<V>((resolve) => {
    const settled: Outcome<T>[] = [];
    let done = false;
    for (const answer of answers) {
      void answer.then((a) => {
        if (done) return;
        settled.push(a);
        const verdict = decide(settled, answers.length - settled.length);
        if (verdict !== undefined) {
          done = true;
          resolve(verdict);
        }
      });
    }
  });
}

/** The views of the owner that most nodes report. */
export function largestGroup(holders: ReadonlyArray<Holder>): Holder[] {
  const byOwner = new Map<string, Holder[]>();
  for (const h of holders) byOwner.set(h.owner, [...(byOwner.get(h.owner) ?? []), h]);
  let best: Holder[] = [];
  for (const group of byOwner.values()) if (group.length > best.length) best = group;
  return best;
}

/** The owner that at least `quorum` nodes report, as one holder; `undefined` if none does. */
export function majorityHolder(holders: ReadonlyArray<Holder>, quorum: number): Holder | undefined {
  const best = largestGroup(holders);
  return best.length >= quorum && best.length > 0 ? mergeHolders(best) : undefined;
}

/** One holder from several nodes' views of it: the earliest expiry, no fence (Redlock has none). */
export function mergeHolders(views: ReadonlyArray<Holder>): Holder {
  const ttls = views.map((v) => v.ttlRemaining).filter((t): t is number => t !== undefined);
  const sinces = views.map((v) => v.since).filter((s): s is number => s !== undefined);
  const h: { owner: string; ttlRemaining?: number; since?: number } = { owner: views[0]!.owner };
  if (ttls.length > 0) h.ttlRemaining = Math.min(...ttls);
  if (sinces.length > 0) h.since = Math.min(...sinces);
  return h;
}
