import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '@oncelock/core';
import { type At, count, oneOf, readOptions, text } from '@oncelock/core/backend';
import { postgresUrl, redisUrl } from '@oncelock/testkit/servers';

/** Where the permits live; the queue and the gauge are always on Redis. */
export type Store = 'redis' | 'postgres';

export interface RunOptions {
  /** Tenants, named tenant-a, tenant-b, ... */
  tenants: number;
  /** Jobs each tenant adds, all at once, one tenant after another. */
  jobs: number;
  /** Worker processes. */
  workers: number;
  /** BullMQ `concurrency` of each worker process. */
  concurrency: number;
  /** The `limit` of the with-limit arm: jobs of one tenant running at once. */
  limit: number;
  /** How long each job works (a sleep, standing for a call to a tenant's provider). */
  jobMs: number;
  /** Give up on an arm whose jobs have not all ended after this long. */
  maxMs: number;
  store: Store;
  redisUrl: string;
  postgresUrl: string;
  /** Print only the final JSON line. */
  quiet: boolean;
}

const at: At = { pkg: '@oncelock/app-tenant-limits', call: 'tenant-limits' };
const url = text({ rule: 'holding a URL', test: (s) => URL.canParse(s) });

// Keyed by flag, so that a message names the flag the user typed.
const spec = {
  '--tenants': count({ min: 1, max: 26 }).default(3),
  '--jobs': count({ min: 1, max: 10_000 }).default(30),
  '--workers': count({ min: 1, max: 32 }).default(3),
  '--concurrency': count({ min: 1, max: 1_000 }).default(10),
  '--limit': count({ min: 1, max: 1_000 }).default(5),
  '--job-ms': count({ min: 0, max: 60_000 }).default(300),
  '--max-ms': count({ min: 1_000, max: 3_600_000 }).default(120_000),
  '--store': oneOf<Store>(['redis', 'postgres']).default('redis'),
  '--redis-url': url.default(redisUrl),
  '--postgres-url': url.default(postgresUrl),
};
const numeric = Object.keys(spec).filter((flag) =>
  spec[flag as keyof typeof spec].expects.startsWith('a whole'),
);

export const usage = `usage: node dist/main.js [options]
  --tenants N          tenants, each flooding the queue with its jobs (default 3)
  --jobs N             jobs per tenant (default 30)
  --workers N          worker processes (default 3)
  --concurrency N      BullMQ concurrency of each worker process (default 10)
  --limit N            the with-limit arm's limit per tenant (default 5)
  --job-ms N           how long each job works (default 300)
  --max-ms N           give up on an arm after this long (default 120000)
  --store redis|postgres   where the permits live (default redis; the queue is always on Redis)
  --redis-url URL      (default ${redisUrl})
  --postgres-url URL   (default ${postgresUrl})
  --quiet              print only the final JSON line
  --help               this text`;

/** Parses command-line flags; bad input throws `InvalidArgumentError` naming the flag. */
export function parseOptions(argv: readonly string[]): RunOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    const strings = Object.fromEntries(
      Object.keys(spec).map((flag) => [flag.slice(2), { type: 'string' as const }]),
    );
    ({ values } = parseArgs({ args: [...argv], options: { ...strings, quiet: { type: 'boolean' } } }));
  } catch (cause) {
    throw new InvalidArgumentError(`${at.call}: ${(cause as Error).message}`, { pkg: at.pkg, cause });
  }
  const given: Record<string, unknown> = {};
  for (const flag of Object.keys(spec)) {
    const raw = values[flag.slice(2)];
    // A number flag is read as a number when it is written as one; anything else is refused as given.
    given[flag] = typeof raw === 'string' && numeric.includes(flag) && /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  const o = readOptions(given, spec, at);
  return {
    tenants: o['--tenants'],
    jobs: o['--jobs'],
    workers: o['--workers'],
    concurrency: o['--concurrency'],
    limit: o['--limit'],
    jobMs: o['--job-ms'],
    maxMs: o['--max-ms'],
    store: o['--store'],
    redisUrl: o['--redis-url'],
    postgresUrl: o['--postgres-url'],
    quiet: values.quiet === true,
  };
}

/** The tenants' names: tenant-a, tenant-b, ... */
export const tenantNames = (o: Pick<RunOptions, 'tenants'>): string[] =>
  Array.from({ length: o.tenants }, (_, i) => `tenant-${String.fromCharCode(97 + i)}`);
