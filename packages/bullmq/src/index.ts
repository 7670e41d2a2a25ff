// A user installs one package and gets the whole oncelock API from it.
export * from '@oncelock/core';
export {
  type ChainOutcome,
  type ChainStepContext,
  type ChunkChain,
  type ChunkChainOptions,
  chunkChain,
} from './chunk-chain.js';
export {
  type BacklogDrainer,
  type DrainBacklogOptions,
  type DrainOutcome,
  drainBacklog,
} from './drain-backlog.js';
export type { JobKey } from './job-key.js';
export { type JobClaim, type OnceProcessorFunction, onceProcessor } from './once-processor.js';
export { type OnceQueue, onceQueue } from './once-queue.js';
export type { OnceJobOptions, QueueConflict } from './options.js';
export {
  QUEUE_STATES,
  type QueueState,
  type QueueStats,
  type QueueStatsOptions,
  queueStats,
} from './queue-stats.js';
export type { JobRate, RateJobOptions } from './rate-options.js';
export { type RateProcessorFunction, type RateSlot, rateLimitedProcessor } from './rate-processor.js';
export type { AddResult, OnceCancelled } from './results.js';
