/** What a handler tells the queue about a job it ran. */
export type Outcome = { retryInMs: number } | undefined;

/**
 * A job queue in this process with `workers` async worker loops: the embedded stand-in for
 * BullMQ. Jobs are ids; a delayed job counts as queued until it is due, as in BullMQ.
 * Workers really overlap: a job's awaits let the other workers run theirs.
 */
export class MemoryQueue {
  readonly #ready: string[] = [];
  readonly #delayed = new Map<string, NodeJS.Timeout>();
  readonly #idleWorkers: Array<() => void> = [];
  readonly #loops: Promise<void>[] = [];
  readonly #onLength: (length: number) => void;
  #active = 0;
  #stopped = false;

  constructor(
    workers: number,
    handler: (id: string) => Promise<Outcome>,
    /** Told the queue length (ready + delayed) after every change, so a peak is never missed. */
    onLength: (length: number) => void = () => {},
  ) {
    this.#onLength = onLength;
    for (let i = 0; i < workers; i++) this.#loops.push(this.#work(handler));
  }

  /** Jobs waiting: ready or delayed. */
  get length(): number {
    return this.#ready.length + this.#delayed.size;
  }

  get active(): number {
    return this.#active;
  }

  add(id: string, delayMs = 0): void {
    if (this.#stopped) return;
    if (delayMs > 0) {
      this.#delayed.set(
        id,
        setTimeout(() => {
          this.#delayed.delete(id);
          this.#push(id);
        }, delayMs),
      );
      this.#onLength(this.length);
    } else this.#push(id);
  }

  /** A delayed job becomes due at once, as BullMQ's `Job.promote()`. */
  promote(id: string): void {
    const timer = this.#delayed.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#delayed.delete(id);
    this.#push(id);
  }

  /** Stops taking jobs; resolves when the jobs already running have finished. Waiting jobs are dropped. */
  async close(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#ready.length = 0;
    for (const wake of this.#idleWorkers.splice(0)) wake();
    await Promise.all(this.#loops);
  }

  #push(id: string): void {
    this.#ready.push(id);
    this.#onLength(this.length);
    this.#idleWorkers.shift()?.();
  }

  async #work(handler: (id: string) => Promise<Outcome>): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      const id = this.#ready.shift();
      if (id === undefined) {
        await new Promise<void>((wake) => this.#idleWorkers.push(wake));
        continue;
      }
      this.#active++;
      this.#onLength(this.length);
      try {
        const outcome = await handler(id);
        if (outcome) this.add(id, outcome.retryInMs);
      } catch {
        // The handler reports its own failures; a job that throws is simply done, like a failed BullMQ job.
      } finally {
        this.#active--;
      }
    }
  }
}
