import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  BackendUnavailableError,
  InvalidArgumentError,
  WaitAbortedError,
  WaitTimeoutError,
} from '@oncelock/core';
import { checkMs, PKG } from './loopback.js';

export interface WorkerOptions {
  /** Added to the parent's environment. */
  env?: Record<string, string | undefined>;
  /** Node flags for the child, e.g. `['--import', 'tsx']`. Default none (not the parent's). */
  execArgv?: string[];
  cwd?: string;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child Node process with an IPC channel, under the test's control. */
export interface Worker {
  readonly pid: number;
  /** Every IPC message received so far, in order. */
  readonly messages: readonly unknown[];
  /** The last 64 KiB of the child's stdout and stderr, for failure messages. */
  readonly output: string;
  /** Resolves (never rejects) when the process has exited. */
  readonly exited: Promise<WorkerExit>;
  /** Sends one IPC message; rejects if the channel is closed. */
  send(message: unknown): Promise<void>;
  /**
   * The first message, received or still to come, that no earlier `next` took and that matches
   * `predicate`. Rejects with `WaitTimeoutError` after `timeoutMs`, `WaitAbortedError` if the
   * process exits first.
   */
  next<T = unknown>(predicate?: (message: T) => boolean, timeoutMs?: number): Promise<T>;
  /** SIGSTOP: the process stops where it is, holding whatever it held. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** SIGKILL; resolves when the process is gone. */
  kill(): Promise<WorkerExit>;
  /** SIGTERM (thawing first), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<WorkerExit>;
}

const OUTPUT_LIMIT = 64 * 1024;
const live = new Set<Worker>();

/**
 * Starts `script` (a .js or .mjs file, a path or a file URL) in a child Node process.
 * A script should exit when its IPC channel closes (`process.on('disconnect', ...)`), so that a
 * crashed test run leaves nothing behind; `stopAllWorkers()` in `afterAll` covers the rest.
 */
export function spawnWorker(
  script: string | URL,
  args: readonly string[] = [],
  options: WorkerOptions = {},
): Worker {
  const path = script instanceof URL ? fileURLToPath(script) : script;
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('script must be a file path or a file URL', { pkg: PKG });
  }
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new InvalidArgumentError('args must be an array of strings', { pkg: PKG });
  }
  const child = fork(path, args, {
    env: { ...process.env, ...options.env },
    execArgv: options.execArgv ?? [],
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const mailbox = new Mailbox(child);
  let output = '';
  const collect = (data: Buffer) => {
    output = (output + data.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const exited = new Promise<WorkerExit>((resolve) => {
    // 'error' alone means the process could not be spawned; it never ran, so it has "exited".
    child.once('error', () => {
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const worker: Worker = {
    pid: child.pid ?? -1,
    messages: mailbox.log,
    get output() {
      return output;
    },
    exited,
    send(message) {
      return new Promise((resolve, reject) => {
        if (!child.connected) {
          reject(
            new BackendUnavailableError(`worker ${worker.pid} has exited or closed its IPC channel`, {
              pkg: PKG,
            }),
          );
          return;
        }
        // With a callback, a send error is passed to it instead of being emitted on the child.
        child.send(message as never, (error) => (error ? reject(error) : resolve()));
      });
    },
    async next<T>(predicate: (message: T) => boolean = () => true, timeoutMs = 5_000) {
      // IPC messages are untyped: `T` is what the caller says the script sends.
      return mailbox.take<T>(
        predicate as (message: unknown) => boolean,
        checkMs(timeoutMs, 'timeoutMs'),
        `a message from worker ${worker.pid}`,
      );
    },
    freeze() {
      signal(child, 'SIGSTOP');
    },
    thaw() {
      signal(child, 'SIGCONT');
    },
    kill() {
      signal(child, 'SIGKILL');
      return exited;
    },
    async stop(timeoutMs = 2_000) {
      checkMs(timeoutMs, 'timeoutMs');
      // A stopped process keeps SIGTERM pending until it is continued.
      signal(child, 'SIGTERM');
      signal(child, 'SIGCONT');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      const first = await Promise.race([exited, late]);
      clearTimeout(timer);
      return first ?? worker.kill();
    },
  };
  live.add(worker);
  void exited.then(() => live.delete(worker));
  return worker;
}

/** Stops every worker still running (SIGTERM, then SIGKILL). For `afterAll`/`afterEach`. */
export async function stopAllWorkers(timeoutMs = 2_000): Promise<void> {
  await Promise.all([...live].map((worker) => worker.stop(timeoutMs)));
}

/** Signals only a process that has not been reaped: its pid could belong to another by now. */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill(name);
}

interface Waiter {
  predicate: (message: unknown) => boolean;
  resolve: (message: never) => void;
}

/** IPC messages with selective receive: each `take` claims the first unclaimed match. */
class Mailbox {
  readonly log: unknown[] = [];
  #unclaimed: unknown[] = [];
  #waiters = new Set<Waiter>();
  #gone = false;
  #onGone = new Set<() => void>();

  constructor(child: ChildProcess) {
    child.on('message', (message) => {
      this.log.push(message);
      for (const waiter of this.#waiters) {
        if (waiter.predicate(message)) {
          this.#waiters.delete(waiter);
          waiter.resolve(message as never);
          return;
        }
      }
      this.#unclaimed.push(message);
    });
    // 'exit' can come before the last messages are read; 'close' comes after all of them.
    child.once('close', () => {
      this.#gone = true;
      for (const fn of this.#onGone) fn();
    });
  }

  take<T>(predicate: (message: unknown) => boolean, timeoutMs: number, what: string): Promise<T> {
    const index = this.#unclaimed.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.#unclaimed.splice(index, 1)[0] as T);
    const opts = { pkg: PKG };
    if (this.#gone)
      return Promise.reject(new WaitAbortedError(what, { ...opts, cause: 'the worker has exited' }));
    return new Promise<T>((resolve, reject) => {
      const started = performance.now();
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        this.#onGone.delete(onGone);
      };
      const waiter: Waiter = {
        predicate,
        resolve: (message) => {
          done();
          resolve(message);
        },
      };
      const onGone = () => {
        done();
        reject(new WaitAbortedError(what, { ...opts, cause: 'the worker exited' }));
      };
      const timer = setTimeout(() => {
        done();
        reject(new WaitTimeoutError(what, performance.now() - started, opts));
      }, timeoutMs);
      this.#waiters.add(waiter);
      this.#onGone.add(onGone);
    });
  }
}
