import { describeValue as describe, InvalidArgumentError, MAX_TTL } from '@oncelock/core';
import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import { Cluster, Redis } from 'ioredis';
import type { Client } from './connection.js';
import { PKG } from './where.js';

/** Options every Redis backend takes. */
export interface CommonOptions {
  /** Namespace in front of every key and channel. Default `'oncelock:'`. No `{` or `}`. */
  prefix?: string;
  /**
   * How long, in ms, a key's fence record outlives its lock (see the README, "Fences").
   * Default 60 000. Longer survives larger backward steps of the server clock; shorter keeps
   * fewer records for keys that are used once.
   */
  fenceRetention?: number;
  /**
   * No operation waits longer than this many ms for Redis, whatever the client's own settings
   * (and clients this package makes use it as ioredis `commandTimeout`). Default 2000.
   */
  timeout?: number;
}

export interface Common {
  prefix: string;
  fenceRetention: number;
  timeout: number;
}

const invalid = (message: string) => new InvalidArgumentError(message, { pkg: PKG });

export function checkOptions(options: unknown, factory: string): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(`${factory}() needs an options object, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

function wholeMs(value: unknown, what: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `${what} must be a whole number of milliseconds from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

export function commonOptions(o: Record<string, unknown>): Common {
  const prefix = o.prefix ?? 'oncelock:';
  if (typeof prefix !== 'string' || prefix.length > 256 || /[{}]/.test(prefix)) {
    // A brace in the prefix would become the Cluster hash tag and could split a lock from its fence record.
    throw invalid(
      `prefix must be a string of at most 256 characters without "{" or "}", got ${typeof prefix === 'string' ? JSON.stringify(prefix) : describe(prefix)}`,
    );
  }
  return {
    prefix,
    fenceRetention: wholeMs(o.fenceRetention, 'fenceRetention', 60_000, 1000, MAX_TTL),
    timeout: wholeMs(o.timeout, 'timeout', 2000, 10, 600_000),
  };
}

/**
 * What we change from ioredis's defaults on clients we make: fail a command at once while
 * disconnected (the first connection is awaited in connection.ts), retry an in-flight command
 * at most once after a reconnect, and give up on a reply after `timeout` ms. The user's own
 * options win over these.
 */
export function safeDefaults(timeout: number): RedisOptions {
  return { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: timeout };
}

export function checkUrl(url: unknown, what = 'url'): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {}
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    throw invalid(
      `${what} must be a redis:// or rediss:// URL, got ${typeof url === 'string' ? JSON.stringify(url) : describe(url)}`,
    );
  }
  return url as string;
}

function checkPlainObject(value: unknown, what: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${what} must be an object of ioredis options, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A user's client: any ioredis Redis or Cluster (duck-typed, so a second copy of ioredis works too). */
export function checkClient(client: unknown, what = 'client'): Client {
  const c = client as Partial<Client> | null;
  if (!c || typeof c !== 'object' || typeof c.call !== 'function' || typeof c.duplicate !== 'function') {
    throw invalid(`${what} must be an ioredis Redis or Cluster client, got ${describe(client)}`);
  }
  if ((c.options as { keyPrefix?: string } | undefined)?.keyPrefix) {
    throw invalid(
      `${what} has an ioredis keyPrefix, which Lua scripts and SCAN would not see; use the prefix option instead`,
    );
  }
  return c as Client;
}

export function newRedis(url: string, user: unknown, timeout: number, what = 'redis'): Redis {
  const own = checkPlainObject(user, what) as RedisOptions | undefined;
  return new Redis(url, { ...safeDefaults(timeout), ...own });
}

export function newCluster(nodes: unknown, user: unknown, timeout: number): Cluster {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw invalid(
      `cluster must be a non-empty array of seed nodes ({ host, port }, a port or "host:port"), got ${describe(nodes)}`,
    );
  }
  const own = (checkPlainObject(user, 'clusterOptions') ?? {}) as ClusterOptions;
  // The node connections keep their offline queue: the Cluster opens them lazily, on first use.
  const { enableOfflineQueue: _, ...perNode } = safeDefaults(timeout);
  return new Cluster(nodes as ClusterNode[], {
    enableOfflineQueue: false,
    ...own,
    redisOptions: { ...perNode, ...own.redisOptions },
  });
}
