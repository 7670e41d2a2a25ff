import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built command, as users run it. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** What else the child gets: node's own flags (`--import` a hook) and environment variables. */
export interface RunOptions {
  timeout?: number;
  nodeArgs?: string[];
  env?: Record<string, string>;
}

/** Runs `oncelock args...` as a child process, stdin a pipe (not a terminal), killed after `timeout` ms. */
export function oncelock(args: string[], options: RunOptions = {}): Promise<Run> {
  const { timeout = 20_000, nodeArgs = [], env = {} } = options;
  const started = performance.now();
  return new Promise((resolve) => {
    const argv = [...nodeArgs, BIN, ...args];
    const child = execFile(
      process.execPath,
      argv,
      { timeout, env: { ...process.env, ...env } },
      (_error, stdout, stderr) => {
        resolve({ code: child.exitCode, stdout, stderr, ms: performance.now() - started });
      },
    );
    child.stdin?.end();
  });
}

/** stderr is one line of message (plus the usage hint for code 2), never a stack trace. */
export function oneLineError(run: Run): string {
  const lines = run.stderr.trimEnd().split('\n');
  if (lines.some((line) => /^\s+at /.test(line)))
    throw new Error(`a stack trace reached the user:\n${run.stderr}`);
  return lines[0] ?? '';
}
