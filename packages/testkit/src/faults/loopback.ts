import { isIP } from 'node:net';
import { InvalidArgumentError } from '@oncelock/core';

// Fault helpers kill connections and processes: pointed at a shared or remote server they would
// do real harm, so every one of them refuses anything but this machine.

export const PKG = '@oncelock/testkit';

/** `localhost`, 127.0.0.0/8, ::1, or a Unix socket directory (a path). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.startsWith('/')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

export function checkLoopbackHost(host: unknown, what: string): string {
  if (typeof host !== 'string' || !isLoopbackHost(host)) {
    throw new InvalidArgumentError(`${what} must be a loopback address, got ${JSON.stringify(host)}`, {
      pkg: PKG,
    });
  }
  return host;
}

export function checkPort(port: unknown, what: string, allowZero = false): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65_535) {
    throw new InvalidArgumentError(`${what} must be a TCP port number, got ${JSON.stringify(port)}`, {
      pkg: PKG,
    });
  }
  return port;
}

export function checkMs(ms: unknown, what: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(
      `${what} must be a non-negative number of milliseconds, got ${JSON.stringify(ms)}`,
      {
        pkg: PKG,
      },
    );
  }
  return ms;
}
