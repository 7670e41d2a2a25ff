import {
  type At,
  client,
  describeValue,
  duration,
  invalid,
  type Option,
  object,
  text,
  url,
} from '@oncelock/core/backend';
import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import { Cluster, Redis } from 'ioredis';
import type { Client } from './connection.js';

/** The package the user installed, named by every message and error of this one. */
export const PKG = '@oncelock/redis';

/** Options every Redis backend takes. */
export interface CommonOptions {
  /** Namespace in front of every key and channel. Default `'oncelock:'`. 1 to 256 characters, no `{` or `}`. */
  prefix?: string;
  /**
   * How long, in ms, a key's fence record outlives its lock (see the README, "Fences").
   * Default 60 000. Longer survives larger backward steps of the server clock; shorter keeps
   * fewer records for keys that are used once.
   */
  fenceRetention?: number;
  /**
   * No operation waits longer than this many ms for Redis, whatever the client's own settings.
   * Default 2000.
   */
  timeout?: number;
}

/** How both factories read the options of {@link CommonOptions}. */
export const commonOptions = {
  prefix: text({
    // A brace would become the Cluster hash tag and could split a lock from its fence record.
    rule: 'of at most 256 characters without "{" or "}"',
    test: (s) => s.length <= 256 && !/[{}]/.test(s),
  }).default('oncelock:'),
  fenceRetention: duration({ min: 1000 }).default(60_000),
  timeout: duration({ min: 10, max: 600_000 }).default(2000),
};

export const redisUrl = url(['redis:', 'rediss:']);

/** Any ioredis Redis or Cluster, told by its shape, so that a second copy of ioredis works too. */
export const ioredisClient = client<Client>('an ioredis Redis or Cluster client', ['call', 'duplicate']);

/** ioredis's own options, handed on as they are. */
export const ioredisOptions = <T extends object>() => object<T>('an object of ioredis options');

/**
 * An array of at least `min` values, each read with `item` as `name[i]` when given; left out,
 * it reads as `undefined`. (The kit has no kind for arrays.)
 */
export function listOf<T>(expects: string, min: number, item?: Option<T>): Option<T[] | undefined> {
  return {
    expects,
    read(value, name, at) {
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || value.length < min) {
        const got = Array.isArray(value) ? `an array of ${value.length}` : describeValue(value);
        throw invalid(at, `${name} must be ${expects}, got ${got}`);
      }
      return item ? value.map((v, i) => item.read(v, `${name}[${i}]`, at)) : (value as T[]);
    },
  };
}

/** Refuses a client with an ioredis `keyPrefix`: Lua scripts and SCAN would not see it. */
export function withoutKeyPrefix<C extends Client>(c: C, name: string, at: At): C {
  if ((c.options as { keyPrefix?: string } | undefined)?.keyPrefix) {
    throw invalid(
      at,
      `${name} has an ioredis keyPrefix, which Lua scripts and SCAN would not see; use prefix`,
    );
  }
  return c;
}

/**
 * What we change from ioredis's defaults on clients we make: fail a command at once while
 * disconnected (the first connection is awaited in connection.ts) and retry an in-flight command
 * at most once after a reconnect. No ioredis `commandTimeout`: connection.ts bounds every
 * command by `timeout` on one shared timer, and a timer per command of ioredis's own cost a few
 * microseconds a call. The user's own options win over these.
 */
function safeDefaults(): RedisOptions {
  return { enableOfflineQueue: false, maxRetriesPerRequest: 1 };
}

export function newRedis(url: string, own: RedisOptions | undefined): Redis {
  return new Redis(url, { ...safeDefaults(), ...own });
}

export function newCluster(nodes: ClusterNode[], own: ClusterOptions | undefined): Cluster {
  // The node connections keep their offline queue: the Cluster opens them lazily, on first use.
  const { enableOfflineQueue: _, ...perNode } = safeDefaults();
  return new Cluster(nodes, {
    enableOfflineQueue: false,
    ...own,
    redisOptions: { ...perNode, ...own?.redisOptions },
  });
}
