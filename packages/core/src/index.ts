export type {
  AcquireRequest,
  AcquireResult,
  Exclusion,
  ExtendRequest,
  Guarantees,
  Holder,
  LockBackend,
  ReleaseRequest,
  Unsubscribe,
} from './backend.js';
export { MAX_KEY_LENGTH, MAX_OWNER_LENGTH, MAX_TTL, MIN_TTL } from './backend.js';
export { call as callBackend } from './call.js';
export { checkRequirements, type Requirements } from './capabilities.js';
export { currentLease } from './current.js';
export {
  BackendClosedError,
  BackendUnavailableError,
  CapabilityUnsupportedError,
  InvalidArgumentError,
  LockLostError,
  LockNotAcquiredError,
  OncelockError,
  type OncelockErrorCode,
  type OncelockErrorOptions,
  StaleFenceError,
  WaitAbortedError,
  WaitTimeoutError,
} from './errors.js';
export { type EventOf, type OncelockEvent, type OncelockEventType, onEvent } from './events.js';
export { FencedResource } from './fence.js';
export { ARGS_KEY_VERSION, argsKey, joinKey } from './keys.js';
export { type Lease, type LeaseOptions, lease, tryLease, withLease } from './lease.js';
export { type MemoryBackendOptions, memoryBackend } from './memory-backend.js';
export {
  type Cancelled,
  type EnqueueResult,
  type OnConflict,
  type OnceGuard,
  type OnceMode,
  type OnceOptions,
  once,
  onceModes,
  queuedSlot,
  type RunClaim,
  type RunResult,
  type StartResult,
} from './once.js';
export {
  type MethodDecorator,
  type OnceMethodOptions,
  type RunOnceOrCancelOptions,
  runOnceOrCancel,
} from './run-once-or-cancel.js';
export { newToken } from './token.js';
export {
  checkBackend,
  checkBoolean,
  checkKey,
  checkObject,
  checkOneOf,
  checkOwner,
  checkSignal,
  checkTtl,
  checkWait,
  describe as describeValue,
} from './validate.js';
