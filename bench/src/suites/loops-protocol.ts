/** What the loops suite's parent asks its worker process (see loops-worker.ts). */
export type LoopsRequest =
  /** Build the store's backend, lead the loop `name`, and listen on the raw channel; resolves once leading. */
  | { type: 'start'; store: 'redis' | 'postgres'; url: string; name: string; channel: string }
  /** How many passes started and raw messages arrived so far. */
  | { type: 'count' }
  /** The time (the worker's wallNow) of event number `index` of `arm`, once it has happened. */
  | { type: 'wait'; arm: LoopsArm; index: number; timeoutMs: number }
  | { type: 'stop' };

/** `oncelock`: a pass of the singleton's body started; `floor`: a raw message arrived. */
export type LoopsArm = 'oncelock' | 'floor';

export type LoopsCounts = Record<LoopsArm, number>;
