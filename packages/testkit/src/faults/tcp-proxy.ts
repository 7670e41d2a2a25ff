import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { checkLoopbackHost, checkMs, checkPort } from './loopback.js';

export interface TcpProxyOptions {
  /** The server to forward to (Redis, Postgres, ...). */
  targetPort: number;
  /** Loopback only. Default `127.0.0.1`. */
  targetHost?: string;
  /** Port to listen on, on 127.0.0.1. Default 0: a free port. */
  port?: number;
}

/** A TCP forwarder that makes network faults for real, between a client and its server. */
export interface TcpProxy {
  readonly port: number;
  /** Open client connections. */
  readonly connections: number;
  /**
   * `url('redis')` is `redis://127.0.0.1:<port>`; given a whole URL, returns it with its host and
   * port pointed at the proxy (`url('postgres://postgres@127.0.0.1:5432/test')`).
   */
  url(schemeOrUrl?: string): string;
  /** Delays every chunk by `ms` in each direction (a round trip gains `2 * ms`). */
  setLatency(ms: number): void;
  /**
   * While on, no byte moves in either direction and connections stay open, as in a network
   * partition. Bytes are held, not lost (TCP would retransmit them): they flow when it ends.
   */
  blackhole(on?: boolean): void;
  /** While on, the proxy stops listening: new connections fail with ECONNREFUSED. */
  refuse(on?: boolean): Promise<void>;
  /** Aborts every open connection with a TCP RST on both sides (peers see ECONNRESET). */
  reset(): void;
  /** Closes every open connection with a FIN on both sides (peers see a clean end). */
  drop(): void;
  /** Stops listening and destroys every connection. Idempotent. */
  close(): Promise<void>;
}

interface Pipe {
  /** Sends what is due; called again when latency or a blackhole ends. */
  pump(): void;
  clear(): void;
}

interface Link {
  client: Socket;
  upstream: Socket;
  pipes: Pipe[];
}

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const targetPort = checkPort(options?.targetPort, 'targetPort');
  const targetHost = checkLoopbackHost(options.targetHost ?? '127.0.0.1', 'targetHost');
  const state = { latency: 0, blackholed: false };
  const links = new Set<Link>();
  let server: Server | undefined;
  let closed = false;

  function accept(client: Socket): void {
    const upstream = connect({ port: targetPort, host: targetHost });
    const link: Link = { client, upstream, pipes: [] };
    link.pipes = [forward(client, upstream, state), forward(upstream, client, state)];
    links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    if (state.blackholed) pause(link);
    // An error on one side (ECONNRESET, or ECONNREFUSED when the target is down) is passed on
    // to the other as a reset, as a router would; a clean end travels through the pipe as a FIN.
    client.on('error', () => abort(upstream));
    upstream.on('error', () => abort(client));
    let open = 2;
    const closed = () => {
      if (--open > 0) return;
      links.delete(link);
      for (const pipe of link.pipes) pipe.clear();
    };
    client.on('close', closed);
    upstream.on('close', closed);
  }

  async function listen(port: number): Promise<number> {
    const next = createServer({ noDelay: true }, accept);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        resolve();
      });
    });
    next.on('error', () => {}); // accept errors after listening concern one client only
    server = next;
    return (next.address() as AddressInfo).port;
  }

  /** Stops accepting at once; `close()` waits for open connections only when `drained` is asked. */
  async function stopListening(drained: boolean): Promise<void> {
    const current = server;
    server = undefined;
    if (!current) return;
    const done = new Promise<void>((resolve) => current.close(() => resolve()));
    if (drained) await done;
  }

  const port = await listen(checkPort(options.port ?? 0, 'port', true));

  return {
    port,
    get connections() {
      let n = 0;
      for (const link of links) if (!link.client.destroyed) n++;
      return n;
    },
    url(schemeOrUrl = 'redis') {
      if (!schemeOrUrl.includes('://')) return `${schemeOrUrl}://127.0.0.1:${port}`;
      const url = new URL(schemeOrUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    setLatency(ms) {
      state.latency = checkMs(ms, 'latency');
    },
    blackhole(on = true) {
      state.blackholed = on;
      for (const link of links) {
        if (on) pause(link);
        else resume(link);
      }
    },
    async refuse(on = true) {
      if (closed) return;
      if (on) await stopListening(false);
      else if (!server) await listen(port);
    },
    reset() {
      for (const link of links) {
        abort(link.client);
        abort(link.upstream);
      }
    },
    drop() {
      for (const link of links) {
        for (const pipe of link.pipes) pipe.clear();
        finish(link.client);
        finish(link.upstream);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const link of links) {
        for (const pipe of link.pipes) pipe.clear();
        link.client.destroy();
        link.upstream.destroy();
      }
      await stopListening(true);
    },
  };
}

/** Copies `from` to `to`, each chunk (and the final FIN) held until `latency` has passed. */
function forward(from: Socket, to: Socket, state: { latency: number; blackholed: boolean }): Pipe {
  // A chunk of `null` stands for the end of the stream. Test traffic is small: no backpressure.
  const queue: Array<{ due: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  let lastDue = 0;

  function push(chunk: Buffer | null): void {
    // Never before an earlier chunk, even if the latency was lowered meanwhile: TCP keeps order.
    lastDue = Math.max(performance.now() + state.latency, lastDue);
    queue.push({ due: lastDue, chunk });
    pump();
  }

  function pump(): void {
    if (timer || state.blackholed) return;
    for (let head = queue[0]; head; head = queue[0]) {
      const wait = head.due - performance.now();
      if (wait > 0) {
        timer = setTimeout(() => {
          timer = undefined;
          pump();
        }, wait);
        return;
      }
      queue.shift();
      if (to.destroyed) continue;
      if (head.chunk) to.write(head.chunk);
      else to.end();
    }
  }

  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push(null));
  return {
    pump,
    clear() {
      queue.length = 0;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

function pause(link: Link): void {
  link.client.pause();
  link.upstream.pause();
}

function resume(link: Link): void {
  link.client.resume();
  link.upstream.resume();
  for (const pipe of link.pipes) pipe.pump();
}

/** RST rather than FIN: the peer sees ECONNRESET, as when a host or middlebox drops state. */
function abort(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy(); // not a TCP handle (never connected): nothing to reset
  }
}

/** Sends a FIN, then lets go: a peer that never answers with its own FIN does not keep us open. */
function finish(socket: Socket): void {
  if (!socket.destroyed) socket.end(() => socket.destroy());
}
