import KeyvRedis from '@keyv/redis';
import type { LockBackend } from '@oncelock/core';
import { memoryBackend } from '@oncelock/core';
import { keyvBackend } from '@oncelock/keyv';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend, redlockBackend } from '@oncelock/redis';
import { Keyv } from 'keyv';
import { brokenBackend } from './broken-backend.js';

/**
 * How to build one backend, as plain JSON: the torture's child processes get it on their
 * command line, so every contender builds its own backend (its own connections) from it.
 */
export type BackendSpec =
  | { kind: 'memory' }
  | {
      kind: 'redis';
      url: string;
      prefix?: string;
      timeout?: number;
      /** The connections' CLIENT SETNAME, so that a lab can find them in CLIENT LIST and kill them. */
      clientName?: string;
    }
  | {
      kind: 'redis-cluster';
      nodes: Array<{ host: string; port: number }>;
      /** Announced node address → where to connect instead (a fault proxy in front of it). */
      natMap?: Record<string, { host: string; port: number }>;
      prefix?: string;
      timeout?: number;
    }
  | { kind: 'redlock'; urls: string[]; prefix?: string; timeout?: number }
  | {
      kind: 'postgres';
      mode: 'advisory' | 'table';
      connectionString: string;
      schema: string;
      /** Table mode: a direct (not pooled) URL for LISTEN. */
      listen?: string;
      timeout?: number;
    }
  | { kind: 'keyv'; redisUrl: string; prefix?: string; timeout?: number }
  /** A deliberately broken lock, for the lab's negative controls. */
  | { kind: 'broken'; flaw: 'no-lock' | 'one-fence' };

/** A fresh backend with its own connections; `close()` also ends the Keyv store it makes. */
export function createBackend(spec: BackendSpec): LockBackend {
  switch (spec.kind) {
    case 'memory':
      return memoryBackend();
    case 'broken':
      return brokenBackend(spec.flaw);
    case 'redis':
      return redisBackend({
        url: spec.url,
        prefix: spec.prefix,
        timeout: spec.timeout,
        ...(spec.clientName ? { redis: { connectionName: spec.clientName } } : {}),
      });
    case 'redis-cluster':
      return redisBackend({
        cluster: spec.nodes,
        prefix: spec.prefix,
        timeout: spec.timeout,
        clusterOptions: spec.natMap ? { natMap: spec.natMap } : {},
      });
    case 'redlock':
      return redlockBackend({ urls: spec.urls, prefix: spec.prefix, timeout: spec.timeout });
    case 'postgres':
      return postgresBackend({
        connectionString: spec.connectionString,
        schema: spec.schema,
        mode: spec.mode,
        listen: spec.listen,
        timeout: spec.timeout,
      });
    case 'keyv': {
      // Errors must surface: a swallowed read error would look like a free lock.
      const adapter = new KeyvRedis(spec.redisUrl, { throwOnErrors: true, connectionTimeout: spec.timeout });
      const store = new Keyv({ store: adapter, throwOnErrors: true, namespace: 'rel' });
      return keyvBackend({ store, prefix: spec.prefix, timeout: spec.timeout, closeStore: true });
    }
  }
}
