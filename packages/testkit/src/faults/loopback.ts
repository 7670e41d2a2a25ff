import { isIP } from 'node:net';
import { count, INVALID, Kind } from '@oncelock/core/backend';

// Fault helpers kill connections and processes: pointed at a shared or remote server they would
// do real harm, so every one of them refuses anything but this machine.

export const PKG = '@oncelock/testkit';

/** `localhost`, 127.0.0.0/8, ::1, or a Unix socket directory (a path). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.startsWith('/')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

// testkit reads its arguments with the same checkers as every oncelock package.
const at = { pkg: PKG, call: 'testkit' };

/** A loopback address: the only kind of host a fault helper may touch. */
export const loopbackHost = new Kind('a loopback address (localhost, 127.0.0.0/8, ::1)', (v) =>
  typeof v === 'string' && isLoopbackHost(v) ? v : INVALID,
);
/** A TCP port; 0 (any free port) only where `allowZero`. */
export const tcpPort = (allowZero = false) => count({ min: allowZero ? 0 : 1, max: 65_535 });
/** A non-negative number of milliseconds, fractions allowed (a latency, a timeout). */
export const millis = new Kind('a non-negative number of milliseconds', (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : INVALID,
);

export const checkLoopbackHost = (host: unknown, what: string): string =>
  loopbackHost.required().read(host, what, at);
export const checkPort = (port: unknown, what: string, allowZero = false): number =>
  tcpPort(allowZero).required().read(port, what, at);
export const checkMs = (ms: unknown, what: string): number => millis.required().read(ms, what, at);
