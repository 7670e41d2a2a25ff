import type { Exclusion, LockBackend } from './contract.js';
import { CapabilityUnsupportedError } from './errors.js';
import { flag, oneOf } from './options/kinds.js';
import { readOptions } from './options/read.js';

/** What a caller needs from a backend; core refuses a backend that cannot honour it. */
export interface Requirements {
  /** The weakest mutual exclusion the caller accepts. Default: `'best-effort'` (any backend). */
  exclusion?: Exclusion;
  /** The caller will use fences, so the backend must make strictly increasing ones. Default: `false`. */
  fencing?: boolean;
}

const strength: Record<Exclusion, number> = { 'best-effort': 0, quorum: 1, strict: 2 };
const exclusions = Object.keys(strength) as Exclusion[];

const requirements = { exclusion: oneOf(exclusions).default('best-effort'), fencing: flag().default(false) };
const at = { pkg: '@oncelock/core', call: 'option require' };

const forStrict =
  'redisBackend (@oncelock/redis), postgresBackend (@oncelock/postgres) or memoryBackend (one process)';

/**
 * Throws `CapabilityUnsupportedError`, naming backends that would serve, if `backend` falls short.
 *
 * @param backend - The backend whose `guarantees` are checked.
 * @param required - The caller's `require` option ({@link Requirements}), unchecked; `undefined`
 *   requires nothing. A malformed one is an `InvalidArgumentError`.
 */
export function checkRequirements(backend: LockBackend, required: unknown): void {
  // Nothing required is the common case; every backend serves it.
  if (required === undefined) return;
  const { exclusion, fencing } = readOptions(required, requirements, at);
  const has = backend.guarantees;
  if (strength[has.exclusion] < strength[exclusion]) {
    throw new CapabilityUnsupportedError(
      `this backend gives ${has.exclusion} mutual exclusion but ${exclusion} was required; use ${
        exclusion === 'quorum' ? `redlockBackend (@oncelock/redis) or ${forStrict}` : forStrict
      }`,
      { backend: backend.name, pkg: backend.pkg },
    );
  }
  if (fencing && !has.fencing) throw fencingUnsupported(backend);
}

export function fencingUnsupported(backend: LockBackend): CapabilityUnsupportedError {
  return new CapabilityUnsupportedError(
    `this backend makes no fencing tokens; for fencing use ${forStrict}`,
    {
      backend: backend.name,
      pkg: backend.pkg,
    },
  );
}

/**
 * `undefined` for a plain lease (limit 1), or `limit` if `backend` serves permits that many at
 * once; otherwise `CapabilityUnsupportedError`, before any round trip.
 *
 * @param backend - The backend whose `guarantees.maxLimit` the limit is checked against.
 * @param limit - The caller's `limit`, already checked to be a whole number from 1 to `MAX_LIMIT`.
 */
export function permitLimit(backend: LockBackend, limit: number): number | undefined {
  if (limit === 1) return undefined;
  const most = backend.guarantees.maxLimit ?? 1;
  if (limit <= most) return limit;
  throw new CapabilityUnsupportedError(
    most === 1
      ? `this backend holds one owner per key, so limit ${limit} cannot be served; use memoryBackend, redisBackend or postgresBackend`
      : `this backend serves at most ${most} holders per key, not ${limit}`,
    { backend: backend.name, pkg: backend.pkg },
  );
}

/**
 * Refuses, before any round trip, a backend that keeps no rate limits (it has no `rateLimit`).
 *
 * @param backend - The backend a rate limit is asked of.
 */
export function checkRateLimits(backend: LockBackend): void {
  if (backend.rateLimit) return;
  throw new CapabilityUnsupportedError(
    'this backend keeps no rate limits; use memoryBackend (one process), redisBackend or postgresBackend',
    { backend: backend.name, pkg: backend.pkg },
  );
}
