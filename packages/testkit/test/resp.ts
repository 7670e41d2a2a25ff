import { connect, type Socket } from 'node:net';

// A bare RESP client over a raw socket: the tests see exactly what the network does to a client
// (ECONNRESET, a FIN, silence), with no client library retrying or reconnecting in between.

export interface RawClient {
  socket: Socket;
  /** Sends an inline command; resolves with the first reply line, rejects on timeout or close. */
  command(line: string, timeoutMs?: number): Promise<string>;
  /** Resolves with how the connection ended: an error code (`ECONNRESET`), or `end` for a FIN. */
  ended: Promise<string>;
}

export function rawClient(port: number): Promise<RawClient> {
  const socket = connect({ port, host: '127.0.0.1' });
  let buffered = '';
  let onLine: (() => void) | undefined;
  const ended = new Promise<string>((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    socket.once('end', () => resolve('end'));
  });
  socket.on('data', (chunk) => {
    buffered += chunk.toString();
    onLine?.();
  });
  socket.on('close', () => onLine?.());

  const command = (line: string, timeoutMs = 2_000) =>
    new Promise<string>((resolve, reject) => {
      buffered = '';
      const timer = setTimeout(() => settle(new Error(`no reply to ${line} in ${timeoutMs} ms`)), timeoutMs);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        onLine = undefined;
        if (error) reject(error);
        else resolve(buffered.slice(0, buffered.indexOf('\r\n')));
      };
      onLine = () => {
        if (buffered.includes('\r\n')) settle();
        else if (socket.destroyed) settle(new Error('socket closed'));
      };
      socket.write(`${line}\r\n`);
    });

  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, command, ended }));
    socket.once('error', reject);
  });
}
