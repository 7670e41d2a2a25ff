import type { RateDecision, RateRequest } from '@oncelock/core/backend';
import { storable } from './batch.js';
import type { Shared } from './mode.js';
import { periodic } from './periodic.js';
import { rateLimitSql, ratePruneSql } from './sql/rates.js';

/** Keys whose rate has gone idle are pruned once per this many decisions of a backend. */
const PRUNE_EVERY = 1000;

/** What `rate_limit` returns (see sql/rates.ts): the decision, and the `now` and `tat`s it was made with. */
export interface RateRow {
  allowed: boolean;
  remaining: number | null;
  delay: number;
  slot_at: number | null;
  retry_after: number | null;
  now_ms: number;
  prev_tat: number | null;
  new_tat: number | null;
}

/** The decision a `rate_limit` row says. */
export function toDecision(row: RateRow): RateDecision {
  return row.allowed
    ? { allowed: true, remaining: row.remaining!, delay: row.delay, at: row.slot_at! }
    : { allowed: false, retryAfter: row.retry_after! };
}

/**
 * `rateLimit` in both modes: one call of the migration's `rate_limit` function on any pooled
 * connection (it keeps no session state, so it also works behind a transaction pooler).
 */
export function rateOperations({ db, options, ready }: Shared) {
  const decide = rateLimitSql(options.schema);
  const prune = periodic(PRUNE_EVERY, () => db.rows(ratePruneSql(options.schema)));
  return {
    ops: {
      async rateLimit({ key, limit, per, burst, reserve }: RateRequest): Promise<RateDecision> {
        storable(key, 'key');
        await ready();
        const [row] = await db.rows<RateRow>(decide, [key, limit, per, burst, reserve]);
        prune.tick();
        return toDecision(row!);
      },
    },
    close: prune.settled,
  };
}
