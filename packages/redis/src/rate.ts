import type { RateDecision, RateRequest } from '@oncelock/core/backend';
import type { Connection } from './connection.js';
import type { KeySpace } from './keys.js';
import * as lua from './lua.generated.js';
import { runScript } from './run-script.js';

/**
 * The reply of rate-1.lua. A grant's server time comes as TIME's seconds and microseconds:
 * `s * 1000 + us / 1000` here is the same IEEE double the script computed, and `now + delay` the
 * same `at` it would have (fractions of a millisecond travel as strings: see the script).
 */
export function rateReply(reply: unknown): RateDecision {
  const r = reply as unknown[];
  if (r[0] !== 1) return { allowed: false, retryAfter: Number(r[1]) };
  const delay = Number(r[2]);
  const now = Number(r[3]) * 1000 + Number(r[4]) / 1000;
  return { allowed: true, remaining: Number(r[1]), delay, at: now + delay };
}

/** One GCRA decision for `request.key`: one EVALSHA of rate-1.lua. */
export function rateLimit(conn: Connection, keys: KeySpace, request: RateRequest): Promise<RateDecision> {
  const { key, limit, per, burst, reserve } = request;
  return conn
    .run((c) => runScript(c, lua.rate, [keys.rate(key)], [limit, per, burst, reserve]))
    .then(rateReply);
}
