import type { Holder, LockBackend } from '@oncelock/core';
import type { StoreArgs } from './args.js';
import { usageError } from './exit-codes.js';

/** What every command needs of a store: the backend's own reads, its release, and `list`. */
export type Store = LockBackend & { list(prefix?: string): Promise<Array<Holder & { key: string }>> };

const REDIS = ['redis:', 'rediss:'];
const POSTGRES = ['postgres:', 'postgresql:'];

/** Parses a store URL, refusing what oncelock cannot reach. */
export function storeUrl(text: string, schemes: readonly string[] = [...REDIS, ...POSTGRES]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`"${text}" is not a URL; expected ${schemes.map((s) => `${s}//...`).join(', ')}`);
  }
  if (!schemes.includes(url.protocol)) {
    throw usageError(`unsupported URL scheme "${url.protocol}"; expected ${schemes.join(' ')}`);
  }
  return url;
}

/** The URL as it may be shown on screen: without its password. */
export function redact(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}

/**
 * Builds the backend the URL names, loading only that backend's package. The backend does not
 * connect until its first call.
 */
export async function openStore(args: StoreArgs): Promise<Store> {
  const url = storeUrl(args.url);
  const onlyFor = (option: string, value: unknown, scheme: string, schemes: string[]) => {
    if (value !== undefined && !schemes.includes(url.protocol))
      throw usageError(`${option} applies to ${scheme} URLs only`);
  };
  onlyFor('--namespace', args.namespace, 'redis://', REDIS);
  onlyFor('--mode', args.mode, 'postgres://', POSTGRES);
  onlyFor('--schema', args.schema, 'postgres://', POSTGRES);
  if (REDIS.includes(url.protocol)) {
    const { redisBackend } = await import('@oncelock/redis');
    return redisBackend({
      url: args.url,
      timeout: args.timeout,
      ...(args.namespace ? { prefix: args.namespace } : {}),
    });
  }
  if (args.mode !== undefined && args.mode !== 'table' && args.mode !== 'advisory') {
    throw usageError(`--mode must be table or advisory, got "${args.mode}"`);
  }
  const { postgresBackend } = await import('@oncelock/postgres');
  return postgresBackend({
    connectionString: args.url,
    timeout: Math.max(args.timeout, 100),
    // An operator's look must not create tables in the database it looks at.
    migrate: false,
    ...(args.mode ? { mode: args.mode } : {}),
    ...(args.schema ? { schema: args.schema } : {}),
  });
}
