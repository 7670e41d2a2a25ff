// Table mode: every operation is one autocommit statement that keeps no session state, so any
// server session may run it. That is what lets this mode work behind a transaction pooler.
import { deleteOwn, extendMany, refusalHolder, upsert } from './rows.js';

/** $1 key, $2 owner, $3 ttl ms. */
export const acquireSql = (
  s: string,
) => `WITH w AS (${upsert(s, { key: '$1', owner: '$2', ttl: '$3', pid: 'NULL::int', lockId: 'NULL::int8', from: '' })})
SELECT (SELECT fence FROM w)::text AS granted_fence, holder.*
FROM (SELECT 1) one ${refusalHolder(s, '$1', 'EXISTS (SELECT 1 FROM w)')}`;

/** $1 keys, $2 owners, $3 ttls. */
export const extendSql = (s: string) => extendMany(s, '$1', '$2', '$3');

/** $1 key, $2 owner, $3 channel. */
export const releaseSql = (s: string) => `WITH d AS (${deleteOwn(s, '$1', '$2')})
SELECT d.live, pg_notify($3::text, d.key) FROM d`;
