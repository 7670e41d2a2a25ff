import type { Holder } from '@oncelock/core';

// Script replies arrive as ioredis parses them: integers as numbers, strings as strings, nil as null.

/** A holder from `{owner, pttl, fence, since}` as the scripts return it. */
export function holderOf(owner: unknown, pttl: unknown, fence: unknown, since: unknown): Holder {
  const h: { owner: string; ttlRemaining?: number; fence?: number; since?: number } = {
    owner: String(owner),
  };
  // PTTL is -1 when someone removed the expiry by hand: the TTL is then unknown, not negative.
  if (typeof pttl === 'number' && pttl >= 0) h.ttlRemaining = pttl;
  const f = Number(fence);
  if (fence !== null && Number.isSafeInteger(f)) h.fence = f;
  const s = Number(since);
  if (since !== null && Number.isSafeInteger(s)) h.since = s;
  return h;
}

export type NodeAcquire =
  | { readonly granted: true; readonly fence: number; readonly renewed: boolean }
  | { readonly granted: false; readonly holder: Holder };

/** The reply of acquire-3.lua. */
export function acquireReply(reply: unknown): NodeAcquire {
  const r = reply as unknown[];
  if (r[0] === 1) return { granted: true, fence: Number(r[1]), renewed: r[2] === 1 };
  return { granted: false, holder: holderOf(r[1], r[2], r[3], r[4]) };
}

/** The reply of list-0.lua: flat groups of five. */
export function listReply(reply: unknown, keyOf: (lockKey: string) => string | undefined) {
  const r = reply as unknown[];
  const out: Array<Holder & { key: string }> = [];
  for (let i = 0; i + 4 < r.length; i += 5) {
    const key = keyOf(String(r[i]));
    if (key !== undefined) out.push({ key, ...holderOf(r[i + 1], r[i + 2], r[i + 3], r[i + 4]) });
  }
  return out;
}
