import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '@oncelock/core';
import { postgresUrl, redisUrl } from '@oncelock/testkit/servers';

/** Names the app in error messages. */
export const PKG = 'audit-log-backfill';

/** Where the audit table lives and what carries the jobs. */
export type Store = 'memory' | 'postgres';
export type QueueKind = 'memory' | 'bullmq';
export type ArmName = 'naive' | 'oncelock' | 'loop';
/** The arms that run jobs from a queue. */
export type QueueArm = Exclude<ArmName, 'loop'>;
const armNames: readonly ArmName[] = ['naive', 'oncelock', 'loop'];

export interface BackfillOptions {
  store: Store;
  queue: QueueKind;
  /** Worker count: async loops in-process, or child processes with BullMQ. */
  workers: number;
  /** Rows waiting without a repr when the run starts. */
  backlog: number;
  /** Rows that arrive during the run, spread evenly over `arrivalMs`. */
  arrivals: number;
  arrivalMs: number;
  /** Most rows one job fills, in one insert. */
  batch: number;
  /** The periodic trigger's interval. */
  triggerMs: number;
  /** Simulated cost of rendering one row's repr (a lookup per row in a real app). */
  rowCostMs: number;
  /** Give up on an arm that has not drained after this long. */
  maxMs: number;
  seed: number;
  arms: ArmName[];
  postgresUrl: string;
  redisUrl: string;
  /** Directory for the SVG chart. */
  out: string;
  /** Print only the final JSON line. */
  quiet: boolean;
}

export const defaults: Omit<BackfillOptions, 'out'> = {
  store: 'memory',
  queue: 'memory',
  workers: 4,
  backlog: 1000,
  arrivals: 200,
  arrivalMs: 2000,
  batch: 100,
  triggerMs: 50,
  rowCostMs: 4,
  maxMs: 30_000,
  seed: 7,
  arms: [...armNames],
  postgresUrl,
  redisUrl,
  quiet: false,
};

export const usage = `usage: node dist/main.js [options]
  --store memory|postgres   where the audit table lives (default memory)
  --queue memory|bullmq     in-process queue and workers, or BullMQ with worker processes (needs --store postgres);
                            the loop arm has no queue: with bullmq its workers are processes too, its lease on PostgreSQL
  --workers N               workers (default ${defaults.workers})
  --backlog N               rows missing their repr at the start (default ${defaults.backlog})
  --arrivals N              rows arriving during the run (default ${defaults.arrivals})
  --arrival-ms N            ...spread over this many ms (default ${defaults.arrivalMs})
  --batch N                 rows per job, one insert (default ${defaults.batch})
  --trigger-ms N            periodic trigger interval (default ${defaults.triggerMs})
  --row-cost-ms N           simulated render cost per row (default ${defaults.rowCostMs})
  --max-ms N                give up on an arm after this long (default ${defaults.maxMs})
  --seed N                  workload seed (default ${defaults.seed})
  --arms naive,oncelock,loop which arms to run (default all three)
  --postgres-url URL        (default ${defaults.postgresUrl})
  --redis-url URL           (default ${defaults.redisUrl})
  --out DIR                 where the SVG chart goes (default the app's out/)
  --quiet                   print only the final JSON line
  --help                    this text`;

const numeric = {
  workers: ['workers', 1, 64],
  backlog: ['backlog', 0, 1_000_000],
  arrivals: ['arrivals', 0, 1_000_000],
  'arrival-ms': ['arrivalMs', 0, 3_600_000],
  batch: ['batch', 1, 10_000],
  'trigger-ms': ['triggerMs', 1, 3_600_000],
  'row-cost-ms': ['rowCostMs', 0, 10_000],
  'max-ms': ['maxMs', 100, 3_600_000],
  seed: ['seed', 0, 2 ** 32 - 1],
} as const;

/** Parses command-line flags; bad input throws `InvalidArgumentError` with the usage text. */
export function parseOptions(argv: readonly string[], out: string): BackfillOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    const strings = Object.fromEntries(
      [...Object.keys(numeric), 'store', 'queue', 'arms', 'postgres-url', 'redis-url', 'out'].map((k) => [
        k,
        { type: 'string' as const },
      ]),
    );
    ({ values } = parseArgs({ args: [...argv], options: { ...strings, quiet: { type: 'boolean' } } }));
  } catch (cause) {
    throw new InvalidArgumentError(`${(cause as Error).message}\n${usage}`, { pkg: PKG, cause });
  }
  const o: BackfillOptions = { ...defaults, arms: [...defaults.arms], out };
  for (const [flag, [field, min, max]] of Object.entries(numeric)) {
    const raw = values[flag];
    if (typeof raw === 'string') o[field] = wholeNumber(flag, raw, min, max);
  }
  if (typeof values.store === 'string') o.store = oneOf('store', values.store, ['memory', 'postgres']);
  if (typeof values.queue === 'string') o.queue = oneOf('queue', values.queue, ['memory', 'bullmq']);
  if (typeof values.arms === 'string') {
    o.arms = values.arms.split(',').map((a) => oneOf('arms', a.trim(), armNames));
    if (new Set(o.arms).size !== o.arms.length) throw bad('--arms lists an arm twice');
  }
  if (typeof values['postgres-url'] === 'string') o.postgresUrl = values['postgres-url'];
  if (typeof values['redis-url'] === 'string') o.redisUrl = values['redis-url'];
  if (typeof values.out === 'string') o.out = values.out;
  o.quiet = values.quiet === true;
  // Worker processes cannot share a table that lives in the parent's memory.
  if (o.queue === 'bullmq' && o.store !== 'postgres') throw bad('--queue bullmq needs --store postgres');
  return o;
}

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw bad(`--${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw))
    throw bad(`--${flag} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

const bad = (message: string) => new InvalidArgumentError(`${message}\n${usage}`, { pkg: PKG });
