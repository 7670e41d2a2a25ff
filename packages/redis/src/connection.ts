import type { Cluster, Redis } from 'ioredis';

/** A single-primary client or a Cluster client: both speak the same commands. */
export type Client = Redis | Cluster;

/**
 * One ioredis client as the backend uses it: every command waits for the first connection at
 * most `timeout` ms, and no command waits longer than `timeout` ms for its reply, whatever the
 * client's own settings. A lease's heartbeat then fails fast on a dead connection, and its
 * signal fires on time, instead of an extension sitting in a queue.
 */
export interface Connection {
  readonly client: Client;
  readonly isCluster: boolean;
  /** Runs `command` on the client within the time limit. */
  run<T>(command: (client: Client) => Promise<T>): Promise<T>;
  /** Closes the client if this backend made it; a client passed in by the user stays open. */
  close(): Promise<void>;
}

export function connection(client: Client, owned: boolean, timeout: number): Connection {
  const isCluster = (client as { isCluster?: boolean }).isCluster === true;
  // Our own clients never queue commands while offline (see options.ts), so before the first
  // connection exists a command would fail at once: let it wait for that first connection.
  let connected = client.status === 'ready';
  if (!connected) client.once('ready', () => (connected = true));
  if (owned) {
    // Failures reach the caller as rejected commands; without a listener ioredis would also print them.
    client.on('error', () => {});
  }

  function firstConnection(): Promise<void> {
    if (connected || client.options.enableOfflineQueue !== false) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const ready = () => settle();
      const ended = () => settle(new Error('Connection is closed.'));
      const timer = setTimeout(() => settle(new Error(`not connected within ${timeout} ms`)), timeout);
      function settle(error?: Error) {
        clearTimeout(timer);
        client.off('ready', ready);
        client.off('end', ended);
        if (error) reject(error);
        else resolve();
      }
      client.once('ready', ready);
      client.once('end', ended);
      if (client.status === 'wait') client.connect().catch(() => {});
      if (client.status === 'end') ended();
    });
  }

  return {
    client,
    isCluster,
    run(command) {
      return within(
        firstConnection().then(() => command(client)),
        timeout,
      );
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

/** Rejects if `promise` has not settled within `ms`. The late result, if any, is dropped. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
