import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '@oncelock/core';
import { postgresUrl } from '@oncelock/testkit/servers';
import type { BackendKind } from './protocol.js';
import { type ScenarioName, scenarioNames } from './scenarios.js';
import { PKG } from './where.js';

export const backendKinds: readonly BackendKind[] = ['redis', 'redlock', 'postgres', 'keyv'];

export interface LabOptions {
  backends: BackendKind[];
  scenarios: ScenarioName[];
  workers: number;
  ttl: number;
  /** How long each run goes on after its fault, in TTLs. */
  afterTtls: number;
  postgresUrl: string;
  out: string;
  quiet: boolean;
  /** Only the CI pairs (`ciRuns`), with a TTL of 400 ms unless one is given. */
  ci: boolean;
}

/** The CI configuration: one run per fault, spread over the backends, with a short TTL. */
export const ciRuns: ReadonlyArray<[BackendKind, ScenarioName]> = [
  ['redis', 'freeze'],
  ['postgres', 'freeze'],
  ['keyv', 'freeze'],
  ['redis', 'restart'],
  ['postgres', 'kill'],
  ['redis', 'cut'],
];

export const usage = `usage: node dist/main.js [options]
  --backends LIST    redis,redlock,postgres,keyv (default all)
  --scenarios LIST   kill,freeze,cut,restart,latency (default all that apply)
  --workers N        contending child processes (default 3)
  --ttl MS           lease TTL (default 600)
  --after-ttls N     how long each run goes on after its fault, in TTLs (default 4)
  --postgres-url URL (default $ONCELOCK_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test)
  --out DIR          report and SVG timelines (default the app's out/)
  --ci               the short CI configuration: ${ciRuns.map(([b, s]) => `${b} ${s}`).join(', ')}, TTL 400 ms
  --quiet            print only the summary line
  --help             this text`;

export function parseOptions(argv: readonly string[], out: string): LabOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        backends: { type: 'string' },
        scenarios: { type: 'string' },
        workers: { type: 'string' },
        ttl: { type: 'string' },
        'after-ttls': { type: 'string' },
        'postgres-url': { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean' },
        ci: { type: 'boolean' },
      },
    }));
  } catch (cause) {
    throw new InvalidArgumentError(`${(cause as Error).message}\n${usage}`, { pkg: PKG, cause });
  }
  return {
    backends: list(values.backends, 'backends', backendKinds),
    scenarios: list(values.scenarios, 'scenarios', scenarioNames),
    workers: whole(values.workers, 'workers', 3, 2, 8),
    ttl: whole(values.ttl, 'ttl', values.ci ? 400 : 600, 100, 60_000),
    afterTtls: whole(values['after-ttls'], 'after-ttls', values.ci ? 3 : 4, 1, 100),
    postgresUrl: typeof values['postgres-url'] === 'string' ? values['postgres-url'] : postgresUrl,
    out: typeof values.out === 'string' ? values.out : out,
    quiet: values.quiet === true,
    ci: values.ci === true,
  };
}

function list<T extends string>(raw: unknown, flag: string, allowed: readonly T[]): T[] {
  if (typeof raw !== 'string') return [...allowed];
  const picked = raw.split(',').map((s) => s.trim());
  for (const p of picked) {
    if (!(allowed as readonly string[]).includes(p))
      throw bad(`--${flag} takes ${allowed.join(',')}; got "${p}"`);
  }
  if (new Set(picked).size !== picked.length) throw bad(`--${flag} lists an item twice`);
  return picked as T[];
}

function whole(raw: unknown, flag: string, fallback: number, min: number, max: number): number {
  if (typeof raw !== 'string') return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw bad(`--${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

const bad = (message: string) => new InvalidArgumentError(`${message}\n${usage}`, { pkg: PKG });
