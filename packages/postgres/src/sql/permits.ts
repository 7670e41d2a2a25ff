// Statements for permits, in both modes: each calls one of the functions the migration made
// (see permit-functions.ts) and reads its result as the plain statements' rows look.
import { holderColumns } from './rows.js';

/** The columns of a permit acquire's result `r`: the grant, the limit the key is held under, the holder. */
const RESULT = `r.granted_fence::text AS granted_fence, r.held_limit, ${holderColumns({
  owner: 'r.holder_owner',
  fence: 'r.holder_fence',
  since: 'r.holder_since',
  expires: 'r.holder_expires',
})}, nullif(r.held_limit, 1) AS permit_limit`;

/** `permit_acquire(...)` with its arguments as SQL expressions: key, owner, ttl ms, limit, lock id, session pid. */
export const permitAcquire = (s: string, args: string) => `"${s}".permit_acquire(${args})`;

/** The acquire result's columns from `from`, a row source that names the function's result `r`. */
export const permitResult = (from: string) => `SELECT ${RESULT} FROM ${from}`;

/**
 * `permit_release(key, owner, lock id, channel, own lock id)`: whether the permit was live; NULL
 * when it was gone. The own lock id is the one whose count the caller gives back (NULL: none).
 */
export const permitRelease = (s: string, args: string) => `"${s}".permit_release(${args})`;

/**
 * $1 key, $2 lock id: removes the key's ended permits, and its header once none is left, so a
 * plain acquire refused by the header of permits that have all ended can try again. Resolves the
 * limit the key is still held under, or NULL.
 */
export const permitClearSql = (s: string) => `SELECT "${s}".permit_clear($1::text, $2::int8) AS held_limit`;
