import type { RateDecision, RateRequest } from '@oncelock/core/backend';
import type { Connection } from './connection.js';
import type { KeySpace } from './keys.js';
import * as lua from './lua.generated.js';
import { runScript } from './run-script.js';

/** A decision of rate-1.lua, with the server time it was made at (ms, for tests and the bench). */
export type RateReply = { readonly decision: RateDecision; readonly now: number };

/** The reply of rate-1.lua: fractions of a millisecond travel as strings (see the script). */
export function rateReply(reply: unknown): RateReply {
  const r = reply as unknown[];
  if (r[0] !== 1) return { decision: { allowed: false, retryAfter: Number(r[1]) }, now: Number(r[2]) };
  const delay = Number(r[2]);
  const now = Number(r[3]);
  // The same double the script's `now + delay` would give: both are IEEE doubles, read exactly.
  return { decision: { allowed: true, remaining: Number(r[1]), delay, at: now + delay }, now };
}

/** One GCRA decision for `request.key`: one EVALSHA of rate-1.lua. */
export async function rateLimit(conn: Connection, keys: KeySpace, request: RateRequest): Promise<RateReply> {
  const { key, limit, per, burst, reserve } = request;
  const reply = await conn.run((c) => runScript(c, lua.rate, [keys.rate(key)], [limit, per, burst, reserve]));
  return rateReply(reply);
}
