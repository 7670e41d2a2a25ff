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
export function runScript(
  target: Client | Redis,
  script: Script,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  // One array, built without spreading: a heartbeat batch holds thousands of keys. No async
  // function around the call: each one costs a promise and a turn of the microtask queue.
  const argv: Array<string | number> = [script.sha, keys.length];
  for (const k of keys) argv.push(k);
  for (const a of args) argv.push(a);
  return target.call('evalsha', argv as string[]).catch((error: unknown) => {
    if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
    return target.call('eval', [script.source as string | number].concat(argv.slice(1)) as string[]);
  });
}
