export type { Requirements } from './capabilities.js';
export type { AcquireResult, Exclusion, Guarantees, Holder, LockBackend } from './contract.js';
export { currentLease } from './current.js';
export {
  BackendClosedError,
  BackendUnavailableError,
  CapabilityUnsupportedError,
  InvalidArgumentError,
  LimitMismatchError,
  LockLostError,
  LockNotAcquiredError,
  OncelockError,
  type OncelockErrorCode,
  type OncelockErrorOptions,
  StaleFenceError,
  WaitAbortedError,
  WaitTimeoutError,
} from './errors.js';
export {
  EVENT_CHANNEL,
  type EventOf,
  type LoopOutcome,
  type LostCause,
  type OncelockEvent,
  type OncelockEventType,
  type OnceStatus,
  onEvent,
} from './events.js';
export { FencedResource } from './fence.js';
export { forceRelease } from './force-release.js';
export { ARGS_KEY_VERSION, argsKey, joinKey } from './keys.js';
export { type Lease, type LeaseOptions, lease, tryLease, withLease } from './lease.js';
export {
  type LimitConcurrencyOptions,
  type Limited,
  type LimitedResult,
  limitConcurrency,
} from './limit-concurrency.js';
export {
  type IterateOptions,
  type Iteration,
  iterate,
  iterationProgress,
  restartIteration,
  type StepContext,
} from './loops/iterate.js';
export type { IterationProgress } from './loops/progress.js';
export {
  type LoopBody,
  type LoopState,
  type PassContext,
  type PassResult,
  type Singleton,
  type SingletonOptions,
  singleton,
} from './loops/singleton.js';
export { wakeSingleton } from './loops/wake.js';
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
  type RunClaim,
  type RunResult,
  type StartResult,
} from './once.js';
export { type RateLimitOptions, type RateLimitResult, rateLimit } from './rate-limit.js';
export {
  type RateLimitedCancel,
  type RateLimitedOptions,
  type RateLimitedResult,
  rateLimited,
} from './rate-limited.js';
export {
  type AsyncMethod,
  type MethodDecorator,
  type OnceMethodOptions,
  type RunOnceOrCancelOptions,
  runOnceOrCancel,
} from './run-once-or-cancel.js';
