import type { Holder } from '@oncelock/core';

// Script replies arrive as ioredis parses them: integers as numbers, strings as strings, nil as null.

/** A holder from `{owner, pttl, fence, since}` as the scripts return it. */
function holderOf(owner: unknown, pttl: unknown, fence: unknown, since: unknown): Holder {
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

/** A holder with the limit of its key: a permit's says it (2 or more), a lease's (1) does not. */
function withLimit(holder: Holder, limit: unknown): Holder {
  return typeof limit === 'number' && limit > 1 ? { ...holder, limit } : holder;
}

export type NodeAcquire =
  | { readonly granted: true; readonly fence: number; readonly renewed: boolean }
  | {
      readonly granted: false;
      readonly holder: Holder;
      /** The limit the key is held under (1: a lease), when the key is held by permits or the caller asked for one. */
      readonly limit?: number;
    };

/** The reply of acquire-5.lua. */
export function acquireReply(reply: unknown): NodeAcquire {
  const r = reply as unknown[];
  if (r[0] === 1) return { granted: true, fence: Number(r[1]), renewed: r[2] === 1 };
  const holder = withLimit(holderOf(r[1], r[2], r[3], r[4]), r[5]);
  return typeof r[5] === 'number' ? { granted: false, holder, limit: r[5] } : { granted: false, holder };
}

/** The reply of inspect-3.lua: the oldest holder, and on a key held by permits, all of them. */
export function inspectReply(reply: unknown): Holder | null {
  const r = reply as unknown[] | null;
  if (!r || r.length < 5) return null;
  const holders: Holder[] = [];
  for (let i = 1; i + 3 < r.length; i += 4) {
    holders.push(withLimit(holderOf(r[i], r[i + 1], r[i + 2], r[i + 3]), r[0]));
  }
  return r[0] === 1 ? holders[0]! : { ...holders[0]!, holders };
}

/** The reply of list-0.lua: flat groups of six, one per lease or permit. */
export function listReply(reply: unknown, keyOf: (lockKey: string) => string | undefined) {
  const r = reply as unknown[];
  const out: Array<Holder & { key: string }> = [];
  for (let i = 0; i + 5 < r.length; i += 6) {
    const key = keyOf(String(r[i]));
    if (key !== undefined)
      out.push({ key, ...withLimit(holderOf(r[i + 1], r[i + 2], r[i + 3], r[i + 4]), r[i + 5]) });
  }
  return out;
}
