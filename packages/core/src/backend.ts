/**
 * `@oncelock/core/backend`: what a backend author needs and a user does not. One way to
 * define a backend (`defineBackend`), the option checkers every oncelock package reads its
 * options with, and the helpers a store's code calls (`within`, `unavailable`, `newToken`).
 * The contract types are here as well as in the main entry.
 */
export {
  type BackendDefinition,
  type DefinedBackend,
  defineBackend,
  type ExtendBatch,
  type ExtendOne,
  type RequiredOps,
  type StoreOps,
} from './backend-kit/define.js';
export { unavailable, type Where } from './backend-kit/failure.js';
export { within } from './backend-kit/within.js';
export { call as callBackend } from './call.js';
export { checkRateLimits, checkRequirements, permitLimit } from './capabilities.js';
// Every type of the contract: the requests a backend answers and what it answers with.
export type * from './contract.js';
export {
  MAX_KEY_LENGTH,
  MAX_LIMIT,
  MAX_OWNER_LENGTH,
  MAX_STATE_LENGTH,
  MAX_TTL,
  MIN_TTL,
} from './contract.js';
// The GCRA decision every store makes: Lua and SQL backends and the contract suite compare with it.
export { type Gcra, gcra } from './gcra.js';
export { decodeProgress, encodeProgress, freshProgress } from './loops/progress.js';
export { memoryBackendFor } from './memory-backend.js';
export { queuedSlot } from './once.js';
export { describe as describeValue } from './options/describe.js';
export {
  client,
  count,
  cursor,
  duration,
  flag,
  func,
  object,
  oneOf,
  signal,
  text,
  ttl,
  url,
  wait,
} from './options/kinds.js';
export { type At, INVALID, invalid, Kind, type Option, type Parse } from './options/option.js';
export { exactlyOne, type Read, readOptions, type Spec } from './options/read.js';
export { askRate, rateOptions } from './rate-limit.js';
export { newToken } from './token.js';
export { checkBackend, checkKey, checkOwner } from './validate.js';
