import { fileURLToPath } from 'node:url';
import { spawnWorker, type Worker } from '@oncelock/testkit/faults';
import type { Slot } from './labs/index.js';
import { addTally, emptyTally, type Tally } from './tally.js';
import type { WorkerConfig } from './worker.js';

/** The compiled worker: child processes run plain JavaScript, so the package must be built. */
export const WORKER_SCRIPT = fileURLToPath(new URL('../dist/worker.js', import.meta.url));

type Message = {
  type: 'ready' | 'hold' | 'progress' | 'done' | 'fatal';
  tally?: Tally;
  error?: string;
  key?: string;
  owner?: string;
};

/** Why a worker process ended without finishing, other than a kill the torture made. */
export interface Crash {
  worker: string;
  exit: { code: number | null; signal: string | null };
  fatal: string | undefined;
  output: string;
}

/**
 * One contender's seat: it runs worker processes one after another until `sections` critical
 * sections are done, starting a new one (a new incarnation) after each kill.
 */
export class Seat {
  readonly index: number;
  readonly slot: Slot;
  /** The process running now, once it has said it is ready. */
  worker: Worker | undefined;
  /** Set while a fault is being done to this seat, so that two never overlap. */
  busy = false;
  readonly tally: Tally = emptyTally();
  readonly crashes: Crash[] = [];
  incarnations = 0;
  /** Monotonic time of the last message from a worker of this seat: a hang shows as a stale one. */
  lastHeard = performance.now();
  #killing = false;
  #stopped = false;
  #started!: () => void;
  /** Settles once the seat's first process is ready, or has failed to start. */
  readonly firstReady = new Promise<void>((resolve) => {
    this.#started = resolve;
  });

  constructor(
    index: number,
    slot: Slot,
    readonly config: Omit<WorkerConfig, 'name' | 'backend' | 'counter'>,
  ) {
    this.index = index;
    this.slot = slot;
  }

  /** Sections still to run, from what finished processes reported. */
  get remaining(): number {
    return this.config.sections - this.tally.sections;
  }

  /** Sections done so far: those of finished processes, plus the running one's last report. */
  get sectionsDone(): number {
    return this.tally.sections + (lastTally(this.worker)?.sections ?? 0);
  }

  /**
   * Runs processes until the work is done. Resolves, never rejects; crashes are recorded. The
   * first process waits for `start` before its first section, so that all seats begin together:
   * on a loaded machine a process takes seconds to start, and seats that started one after
   * another would run their sections one after another, contending with no one.
   */
  async run(start: Promise<unknown>): Promise<void> {
    while (this.remaining > 0 && !this.#stopped) {
      const name = `w${this.index}.${++this.incarnations}`;
      const config: WorkerConfig = {
        ...this.config,
        name,
        backend: this.slot.backend,
        counter: this.slot.counter,
        sections: this.remaining,
      };
      const worker = spawnWorker(WORKER_SCRIPT, [JSON.stringify(config)]);
      void this.#listen(worker);
      const ready = await worker
        .next<Message>((m) => m.type === 'ready' || m.type === 'fatal', 30_000)
        .catch(() => undefined);
      if (ready?.type === 'ready') this.worker = worker;
      if (this.incarnations === 1) {
        this.#started();
        await start;
      }
      // A process that has exited already has nothing to start.
      if (ready?.type === 'ready') await worker.send({ type: 'go' }).catch(() => {});
      const exit = await worker.exited;
      this.worker = undefined;
      const messages = worker.messages as Message[];
      const last = lastTally(worker);
      if (last) addTally(this.tally, last);
      const finished = messages.some((m) => m.type === 'done') && exit.code === 0;
      if (this.#killing) this.#killing = false;
      else if (!finished) {
        this.crashes.push({
          worker: name,
          exit,
          fatal: messages.find((m) => m.type === 'fatal')?.error,
          output: worker.output,
        });
        // A process that cannot even start would otherwise be respawned forever.
        if (ready?.type !== 'ready' || this.crashes.length >= 3) return;
      }
    }
  }

  /** Kills the running process and starts no other: for a run that has to end now. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.kill();
  }

  /** What the seat's current process last reported, and how long ago, for a hang report. */
  describe(): string {
    const quiet = Math.round((performance.now() - this.lastHeard) / 1000);
    return `seat ${this.index}: ${this.remaining} sections left before this process, quiet for ${quiet} s, process ${this.worker?.pid ?? 'none'} reported ${JSON.stringify(lastTally(this.worker) ?? null)}`;
  }

  async #listen(worker: Worker): Promise<void> {
    // A predicate that sees every message and takes none: the other `next` calls still get theirs.
    const hear = () => {
      this.lastHeard = performance.now();
      return false;
    };
    await worker.next(hear, 3_600_000).catch(() => {}); // ends when the process exits
  }

  /** The lease the running process holds, as far as its messages tell (one in flight is missed). */
  holding(): { key: string; owner: string } | undefined {
    const last = (this.worker?.messages as Message[] | undefined)?.findLast(
      (m) => m.type === 'hold' || m.type === 'progress' || m.type === 'done',
    );
    return last?.type === 'hold' && last.key && last.owner ? { key: last.key, owner: last.owner } : undefined;
  }

  /** SIGKILL the running process; `run` starts the next one. False if none is running. */
  async kill(): Promise<boolean> {
    const worker = this.worker;
    if (!worker) return false;
    this.#killing = true;
    await worker.kill();
    return true;
  }
}

/** A worker's last tally: it sends one after every section, and a final one when done. */
function lastTally(worker: Worker | undefined): Tally | undefined {
  return (worker?.messages as Message[] | undefined)?.findLast((m) => m.tally !== undefined)?.tally;
}
