import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { BackendUnavailableError } from '@oncelock/core';

// Running a test server as a child process until it says it is ready.

const PKG = '@oncelock/testkit';

// Servers this process started: killed when it exits, so that a crashed test run leaves none behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Spawns `file` and resolves once its output contains `ready`. If it exits first, rejects with
 * `describeExit(code, log)` (the last 4 KiB of its output); if it cannot run at all, with why.
 */
export function spawnUntilReady(
  file: string,
  args: readonly string[],
  options: SpawnOptions & { ready: string; describeExit: (code: number | null, log: string) => string },
): Promise<ChildProcess> {
  const { ready, describeExit, ...spawnOptions } = options;
  const child = spawn(file, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4096);
      if (log.includes(ready)) {
        done();
        resolve(child);
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new BackendUnavailableError(describeExit(code, log), { pkg: PKG }));
    };
    const onError = (error: Error) => {
      done();
      reject(
        new BackendUnavailableError(`could not run ${file}: ${error.message}`, { pkg: PKG, cause: error }),
      );
    };
    const done = () => {
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining the pipes so a chatty server never blocks on a full one.
      child.stdout?.resume();
      child.stderr?.resume();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}
