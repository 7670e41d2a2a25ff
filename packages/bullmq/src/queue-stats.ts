import { BackendUnavailableError, InvalidArgumentError } from '@oncelock/core';
import type { Queue } from 'bullmq';

import { PKG } from './options.js';

/** The states `queueStats` counts, in the order the script returns them. */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
  'paused',
] as const;

/** A state `queueStats` counts jobs in: one of {@link QUEUE_STATES}. */
export type QueueState = (typeof QUEUE_STATES)[number];

/** What {@link queueStats} reads of a queue, all from one moment. */
export interface QueueStats {
  /** Jobs by state. `paused` counts BullMQ's legacy paused list; a paused queue today keeps its jobs in `waiting`. */
  counts: Record<QueueState, number>;
  /** The queue is paused (`queue.pause()`). */
  isPaused: boolean;
  /**
   * Milliseconds since the job at the head of the wait list became ready (added, plus its delay),
   * on the Redis server's clock; `null` when the wait list is empty. Prioritized jobs are not in
   * the wait list and do not count here.
   */
  oldestWaitingAge: number | null;
  /** The id of that job, or `null`. */
  oldestWaitingId: string | null;
}

/** Options of {@link queueStats}. */
export interface QueueStatsOptions {
  /** Give up after this many ms with a `BackendUnavailableError`. Default 1000. */
  timeout?: number;
}

// Lua, so that the counts and the oldest job's hash come back in one round trip and from one
// moment: a MULTI cannot read a hash whose name is in a reply of the same MULTI. Read-only,
// unlike BullMQ's getCounts, which pops legacy markers off the wait list.
const SCRIPT = `--[[
  KEYS[1] the queue's key prefix, "<prefix>:<name>:" (job hashes are "<prefix>:<name>:<id>")
  Returns the counts in QUEUE_STATES order, then paused (0|1), the oldest waiting job's id
  (or false), its timestamp and delay, and the server's time in ms.
]]
local p = KEYS[1]
local r = redis.call
local wait = r("LLEN", p .. "wait")
-- The oldest job is at the right end (LPUSH in, RPOPLPUSH out). A "0:" entry is a v4 marker.
local at = -1
local id = r("LINDEX", p .. "wait", at)
if id and string.sub(id, 1, 2) == "0:" then
  wait = wait - 1
  at = -2
  id = r("LINDEX", p .. "wait", at)
end
local ts, delay = false, false
if id then
  local fields = r("HMGET", p .. id, "timestamp", "delay")
  ts, delay = fields[1], fields[2]
end
local now = r("TIME")
return { wait, r("LLEN", p .. "active"), r("ZCARD", p .. "delayed"), r("ZCARD", p .. "prioritized"),
  r("ZCARD", p .. "waiting-children"), r("ZCARD", p .. "completed"), r("ZCARD", p .. "failed"),
  r("LLEN", p .. "paused"), r("HEXISTS", p .. "meta", "paused"), id, ts, delay,
  tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) }
`;

const COMMAND = 'oncelockQueueStats';
type Reply = [...number[], string | null, string | null, string | null, number];
interface ScriptClient {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string; readOnly?: boolean }): void;
  runCommand(name: string, args: unknown[]): Promise<unknown>;
}
const defined = new WeakSet<object>();

/**
 * Job counts by state and the age of the oldest waiting job of a BullMQ queue, in one read-only
 * round trip to Redis, bounded by `timeout`. For dashboards and the `oncelock queues` command.
 *
 * @param queue - The BullMQ queue to read; it is not changed (the script only reads).
 * @param options - The `timeout` in milliseconds (default 1000). Optional.
 */
export async function queueStats(queue: Queue, options: QueueStatsOptions = {}): Promise<QueueStats> {
  const timeout = options.timeout ?? 1000;
  if (!(Number.isFinite(timeout) && timeout > 0)) {
    throw new InvalidArgumentError(`queueStats: timeout must be a positive number of ms, got ${timeout}`, {
      pkg: PKG,
    });
  }
  const work = read(queue);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BackendUnavailableError(
            `queueStats: queue "${queue.name}" did not answer within ${timeout} ms`,
            {
              pkg: PKG,
            },
          ),
        ),
      timeout,
    );
  });
  // The read may still settle after the timeout; nobody awaits it then.
  work.catch(() => {});
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function read(queue: Queue): Promise<QueueStats> {
  let reply: Reply;
  try {
    // The raw client is BullMQ's Redis escape hatch; a queue on another store has none.
    const client = (await queue.getBackend().client) as unknown as ScriptClient;
    if (!defined.has(client)) {
      client.defineCommand(COMMAND, { numberOfKeys: 1, lua: SCRIPT, readOnly: true });
      defined.add(client);
    }
    reply = (await client.runCommand(COMMAND, [queue.toKey('')])) as Reply;
  } catch (cause) {
    throw new BackendUnavailableError(`queueStats: could not read queue "${queue.name}"`, {
      pkg: PKG,
      cause,
    });
  }
  const counts = Object.fromEntries(QUEUE_STATES.map((state, i) => [state, Number(reply[i])])) as Record<
    QueueState,
    number
  >;
  const n = QUEUE_STATES.length;
  const [paused, id, timestamp, delay, now] = reply.slice(n) as [
    number,
    string | null,
    string | null,
    string | null,
    number,
  ];
  const ready = timestamp === null ? null : Number(timestamp) + Number(delay ?? 0);
  return {
    counts,
    isPaused: paused === 1,
    oldestWaitingAge: ready === null ? null : Math.max(0, now - ready),
    oldestWaitingId: id ?? null,
  };
}
