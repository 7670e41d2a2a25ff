import { execFile } from 'node:child_process';
import { BackendUnavailableError } from '@oncelock/core';
import { PKG } from './loopback.js';

/** Runs one command with `redis-cli` against 127.0.0.1:`port`; resolves with its raw output. */
export function redisCli(port: number, args: readonly string[], timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(port), ...args],
      { timeout: timeoutMs },
      (error, stdout, stderr) => {
        // redis-cli exits 0 on a server error reply and prints it: treat that as a failure too.
        const failed =
          error ?? (/^(ERR|WRONGTYPE|NOAUTH|Could not connect)/m.test(stdout) ? stdout : undefined);
        if (failed === undefined) resolve(stdout);
        else {
          const detail = `${stdout}${stderr}`.trim();
          reject(
            new BackendUnavailableError(`redis-cli ${args.join(' ')} on port ${port} failed: ${detail}`, {
              pkg: PKG,
              cause: failed,
            }),
          );
        }
      },
    );
  });
}
