import type { Redis } from 'ioredis';
import type { Client } from './connection.js';

/** One Lua script of `scripts/`, as lua.generated.ts carries it: its text and its SHA-1. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

/**
 * EVALSHA, and EVAL when the server does not know the script (NOSCRIPT: after a restart, a
 * failover or SCRIPT FLUSH). EVAL also caches the script, so the next EVALSHA finds it.
 * On a Cluster client the call goes to the node that serves the first key's slot; `target` may
 * also be one node of a cluster (for `list`, which has no keys).
 */
export async function runScript(
  target: Client | Redis,
  script: Script,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  // Built once, without spreading: a heartbeat batch holds thousands of keys.
  const tail: Array<string | number> = [keys.length];
  for (const k of keys) tail.push(k);
  for (const a of args) tail.push(a);
  try {
    return await target.call('evalsha', [script.sha].concat(tail as string[]));
  } catch (error) {
    if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
    return target.call('eval', [script.source].concat(tail as string[]));
  }
}
