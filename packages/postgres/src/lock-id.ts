import { createHash } from 'node:crypto';

/**
 * The version of {@link advisoryLockId}. It is pinned: a new hash would make two releases of
 * this package take different advisory locks for the same key, and both could then hold it.
 * A future change of hash gets a new version and a release note; it never changes silently.
 */
export const ADVISORY_LOCK_ID_VERSION = 'v1';

/**
 * The 64-bit advisory lock id of `key` in `schema`: the first 8 bytes of
 * SHA-256(`oncelock-advisory-v1` NUL schema NUL key), UTF-8, read as a signed big-endian integer.
 *
 * Two keys with the same id (probability about n²/2⁶⁵ for n keys held at once) exclude each
 * other: one waits while the other is held. That costs throughput, never safety. The ids share
 * PostgreSQL's one-argument advisory lock space with any other code in the same database that
 * calls `pg_advisory_lock(bigint)`: the schema name is part of the hash so that two oncelock
 * namespaces never meet, but code of your own that picks ids by hand could.
 *
 * @param key - The lock's key, as passed to `lease()`.
 * @param schema - The backend's schema (its `schema` option, default `oncelock`).
 */
export function advisoryLockId(key: string, schema: string): bigint {
  const digest = createHash('sha256')
    .update(`oncelock-advisory-${ADVISORY_LOCK_ID_VERSION}\0${schema}\0${key}`, 'utf8')
    .digest();
  return digest.readBigInt64BE(0);
}
