import { connect } from 'node:net';
import { BackendUnavailableError, InvalidArgumentError } from '@oncelock/core';
import { type RedisServer, startRedisServer } from '../servers/redis.js';
import { checkPort, PKG } from './loopback.js';
import { redisCli } from './redis-cli.js';

export interface RestartRedisOptions {
  /** Extra `redis-server` arguments for the new server (a port restart only). */
  args?: readonly string[];
}

/**
 * Restarts a Redis this test run started, losing every key, as after a crash without persistence.
 * Given a `RedisServer` (from `startRedisServer`), that is `server.restart()`. Given a port, the
 * server there is shut down (`SHUTDOWN NOSAVE`) and a fresh one is started on the same port, owned
 * by this process from now on: stop the returned server when done. The shared server on 6379 is
 * refused: a server we start dies with the test process, and other suites need that one.
 */
export async function restartRedis(
  target: RedisServer | number,
  options: RestartRedisOptions = {},
): Promise<RedisServer> {
  if (typeof target === 'object' && target !== null && typeof target.restart === 'function') {
    await target.restart();
    return target;
  }
  const port = checkPort(target, 'port');
  if (port === 6379) {
    throw new InvalidArgumentError(
      'restartRedis will not restart the shared Redis on 6379; start your own with startRedisServer()',
      {
        pkg: PKG,
      },
    );
  }
  await redisCli(port, ['SHUTDOWN', 'NOSAVE']);
  await untilRefused(port);
  return startRedisServer({ port, args: options.args ?? [] });
}

/** Resolves once nothing listens on `port`: the old server has let go of it. */
async function untilRefused(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const listening = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!listening) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new BackendUnavailableError(`the Redis on port ${port} did not shut down`, { pkg: PKG });
}

/** One line of `CLIENT LIST`: `id`, `addr`, `laddr`, `name`, `age`, ... as strings. */
export type RedisClientInfo = Readonly<Record<string, string>>;

/** Which connections to kill: fields that must all match, or a predicate over `CLIENT LIST`. */
export type RedisClientFilter =
  | { id?: number; name?: string; addr?: string; laddr?: string }
  | ((client: RedisClientInfo) => boolean);

/**
 * Kills the connections of the Redis on 127.0.0.1:`port` that match `filter` (`CLIENT KILL ID`),
 * as a server-side timeout or an operator would. Their clients see the socket close.
 * Resolves with the ids killed. An empty filter is refused: it would kill every test's clients.
 */
export async function killRedisClients(port: number, filter: RedisClientFilter): Promise<number[]> {
  checkPort(port, 'port');
  const match = matcher(filter);
  const listed = await redisCli(port, ['CLIENT', 'LIST']);
  const ids = parseClientList(listed)
    .filter(match)
    .map((client) => client.id!);
  const killed: number[] = [];
  for (const id of ids) {
    // A client may have gone between the list and the kill: the reply is then an error or 0.
    const reply = await redisCli(port, ['CLIENT', 'KILL', 'ID', id]).catch(() => '0');
    if (reply.trim() === '1') killed.push(Number(id));
  }
  return killed;
}

function matcher(filter: RedisClientFilter): (client: RedisClientInfo) => boolean {
  if (typeof filter === 'function') return filter;
  const fields = Object.entries(filter ?? {}).filter(([, value]) => value !== undefined);
  if (fields.length === 0) {
    throw new InvalidArgumentError('killRedisClients needs a filter (id, name, addr, laddr or a function)', {
      pkg: PKG,
    });
  }
  return (client) => fields.every(([field, value]) => client[field] === String(value));
}

export function parseClientList(text: string): RedisClientInfo[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('id='))
    .map((line) => {
      const info: Record<string, string> = {};
      // Fields are `k=v` separated by spaces; only `cmd` and `name` could hold odd text, and
      // Redis refuses spaces in client names.
      for (const pair of line.trim().split(' ')) {
        const eq = pair.indexOf('=');
        if (eq > 0) info[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return info;
    });
}
