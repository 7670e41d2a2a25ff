// Table mode: every operation is one autocommit statement that keeps no session state, so any
// server session may run it. That is what lets this mode work behind a transaction pooler.
import { handCommit } from './hand.js';
import { permitAcquire, permitRelease, permitResult } from './permits.js';
import {
  BY_TTL,
  commitMode,
  deleteOwn,
  extendMany,
  extendMixed,
  NO_FENCE,
  refusalHolder,
  upsert,
} from './rows.js';
import { JOINED, joinWaiters } from './waiters.js';

const { live } = BY_TTL;

/**
 * $1 key, $2 owner, $3 ttl ms, $4 the waiter's LISTEN pid (NULL unless the caller waits), $5 its
 * anchor (NULL: no terms for a hand; see hand.ts): a refused waiter joins the key's waiters, a
 * granted one leaves them (see waiters.ts). A grant
 * waits for its commit to be flushed: its row must outlive a crash. `no_fence`: as in advisory mode.
 */
export const acquireSql = (s: string) => {
  const w = upsert(s, live, {
    key: '$1',
    owner: '$2',
    ttl: '$3',
    pid: 'NULL::int',
    lockId: 'NULL::int8',
    from: '(SELECT 1) one',
    when: 'true',
  });
  return `WITH ${w},
${joinWaiters(s, live, { key: '$1', owner: '$2', waiter: '$4', ttl: '$3', anchor: '$5', lockPid: 'NULL::int', lockId: 'NULL::int8' })}
SELECT (SELECT fence FROM w)::text AS granted_fence, ${NO_FENCE}, ${JOINED}, holder.*,
  ${commitMode("CASE WHEN EXISTS (SELECT 1 FROM w) THEN 'on' ELSE 'off' END")} AS commit_mode
FROM (SELECT 1) one ${refusalHolder(s, live, '$1', 'EXISTS (SELECT 1 FROM w)')}`;
};

/** $1 keys, $2 owners, $3 ttls. */
export const extendSql = (s: string) => extendMany(s, live, '$1', '$2', '$3');

/**
 * $1 key, $2 owner; hands the key to its next waiter, or wakes that waiter (see hand.ts). Commits
 * without waiting for the flush (a release lost in a crash leaves the key held until its TTL,
 * which is safe), unless it handed the key to a table-mode waiter, whose grant must outlive a crash.
 */
export const releaseSql = (s: string) => `WITH d AS (${deleteOwn(s, live, '$1', '$2')}),
n AS (SELECT "${s}".hand(d.key) AS r FROM d)
SELECT d.live, n.r AS handed, ${commitMode(handCommit('n.r'))} AS commit_mode FROM d, n`;

/** $1 key, $2 owner, $3 ttl ms, $4 limit, $5 the key's lock id, $6 the waiter's LISTEN pid (or NULL). */
export const permitAcquireSql = (s: string) =>
  permitResult(
    `${permitAcquire(s, '$1::text, $2::text, $3::float8, $4::int, $5::int8, NULL::int, $6::int')} r`,
  );

/** $1 key, $2 owner, $3 the key's lock id, $4 channel. */
export const permitReleaseSql = (s: string) =>
  `SELECT ${permitRelease(s, '$1::text, $2::text, $3::int8, $4::text, NULL::int8')} AS live`;

/** $1 keys, $2 owners, $3 ttls, $4 limits (NULL for a plain lease): a batch with permits in it. */
export const extendMixedSql = (s: string) => `WITH ${extendMixed(s, live, 1)} SELECT ord FROM extended`;
