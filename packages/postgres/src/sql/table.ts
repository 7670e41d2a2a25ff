// Table mode: every operation is one autocommit statement that keeps no session state, so any
// server session may run it. That is what lets this mode work behind a transaction pooler.
import { BY_TTL, commitMode, deleteOwn, extendMany, refusalHolder, upsert } from './rows.js';

const { live } = BY_TTL;

/** $1 key, $2 owner, $3 ttl ms. */
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
  return `WITH w AS (${w})
SELECT (SELECT fence FROM w)::text AS granted_fence, holder.*,
  ${commitMode("CASE WHEN EXISTS (SELECT 1 FROM w) THEN 'on' ELSE 'off' END")} AS commit_mode
FROM (SELECT 1) one ${refusalHolder(s, live, '$1', 'EXISTS (SELECT 1 FROM w)')}`;
};

/** $1 keys, $2 owners, $3 ttls. */
export const extendSql = (s: string) => extendMany(s, live, '$1', '$2', '$3');

/**
 * $1 key, $2 owner, $3 channel. Commits without waiting for the flush: a release lost in a crash
 * leaves the key held until its TTL, which is safe.
 */
export const releaseSql = (s: string) => `WITH d AS (${deleteOwn(s, live, '$1', '$2')})
SELECT d.live, pg_notify($3::text, d.key), ${commitMode("'off'")} AS commit_mode FROM d`;
