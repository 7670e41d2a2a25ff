import { within } from '@oncelock/core/backend';
import type { Cluster, Redis } from 'ioredis';

/** A single-primary client or a Cluster client: both speak the same commands. */
export type Client = Redis | Cluster;

/**
 * One ioredis client as the backend uses it: no command waits longer than `timeout` ms, for a
 * connection or for its reply, whatever the client's own settings. A lease's heartbeat then
 * fails fast on a dead connection, and its signal fires on time, instead of an extension
 * sitting in a queue.
 */
export interface Connection {
  readonly client: Client;
  readonly isCluster: boolean;
  /** Runs `command` on the client within the time limit. */
  run<T>(command: (client: Client) => Promise<T>): Promise<T>;
  /** Closes the client if this backend made it; a client passed in by the user stays open. */
  close(): Promise<void>;
}

const CONNECTING = new Set(['wait', 'connecting', 'connect']);
const ENDED = ['ready', 'close', 'end', 'reconnecting'] as const;

export function connection(client: Client, owned: boolean, timeout: number): Connection {
  const isCluster = (client as { isCluster?: boolean }).isCluster === true;
  let attempt: Promise<void> | undefined;
  // Why the connection last failed (NOAUTH, WRONGPASS, a TLS certificate...): a command that then
  // fails only says the stream is not writeable, which would hide a bad password behind "down".
  let lastError: Error | undefined;
  if (owned) {
    // Failures reach the caller as rejected commands; without a listener ioredis would also print them.
    client.on('error', (error: Error) => {
      lastError = error;
    });
    client.on('ready', () => {
      lastError = undefined;
    });
  }

  // What a person needs first is where and why ("cannot reach Redis at 127.0.0.1:6379
  // (ECONNREFUSED)"), not the command's own failure ("Stream isn't writeable..."); ioredis's
  // error stays as the cause.
  const explained = (error: unknown): never => {
    if (!lastError || client.status === 'ready' || !(error instanceof Error)) throw error;
    const { code, address, port } = lastError as NodeJS.ErrnoException & { address?: string; port?: number };
    const message =
      typeof code === 'string' && address
        ? `cannot reach Redis at ${address}:${port} (${code})`
        : `the connection to Redis failed: ${lastError.message}`;
    throw new Error(message, { cause: lastError });
  };

  /**
   * Clients we make never queue commands while offline (see options.ts), so a command sent
   * while a connection attempt is under way (the first one, or a reconnect) would fail for no
   * reason: wait for that attempt to end. Once it has failed, commands fail at once.
   */
  function attemptEnded(): Promise<void> {
    if (client.options.enableOfflineQueue !== false) return Promise.resolve();
    if (client.status === 'wait') client.connect().catch(() => {});
    if (!CONNECTING.has(client.status)) return Promise.resolve();
    // One waiter per attempt, however many commands wait on it.
    attempt ??= new Promise<void>((resolve) => {
      const done = () => {
        for (const event of ENDED) client.off(event, done);
        attempt = undefined;
        resolve();
      };
      for (const event of ENDED) client.once(event, done);
    });
    return attempt;
  }

  return {
    client,
    isCluster,
    run(command) {
      // Ready: send at once, without waiting a turn for a connection attempt that is not there.
      // Every command is bounded here, one timer each, rather than by defineBackend's per-call
      // timeout: Redlock bounds each node's answer, and wake-ups run outside any backend call.
      const sent = client.status === 'ready' ? command(client) : attemptEnded().then(() => command(client));
      return within(sent, timeout).catch(explained);
    },
    async close() {
      if (!owned) return;
      try {
        await within(client.quit(), timeout);
      } catch {
        client.disconnect();
      }
    },
  };
}
