import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnWorker, type Worker } from '@oncelock/testkit/faults';

/** A message from a loop worker: `ready` once started, `pass` at each pass it starts, `fatal` on a crash. */
export interface LoopMessage {
  type: 'ready' | 'pass' | 'fatal';
  /** `pass`: when it started (historyNow), and the lease's fence. */
  at?: number;
  fence?: number;
  error?: string;
}

/** A process of the fleet that ended on its own (not by the lab's kill or stop). */
export interface LoopCrash {
  name: string;
  exit: { code: number | null; signal: string | null };
  fatal: string | undefined;
  output: string;
}

/** One live process: its name (seat and incarnation, `w2.3`) and its handle. */
export interface Member {
  readonly name: string;
  readonly worker: Worker;
}

/** A compiled worker script of dist/loops/: child processes run plain JavaScript. */
export function loopScript(file: string): string {
  const path = fileURLToPath(new URL(`../../dist/loops/${file}`, import.meta.url));
  if (!existsSync(path))
    throw new Error(
      `${path} is missing: build first (pnpm turbo run build --filter=@oncelock/reliability...)`,
    );
  return path;
}

/**
 * `size` worker processes of one script, each seat starting a new process after the lab kills
 * its last one, so that the fleet keeps its size. The leader is the process that last reported
 * a pass start.
 */
export class Fleet {
  readonly crashes: LoopCrash[] = [];
  /** Processes started, all seats together. */
  started = 0;
  #members: Array<Member | undefined>;
  #incarnations: number[];
  #leader: Member | undefined;
  #ended = new Set<Worker>();
  #stopping = false;
  #spawning = new Set<Promise<void>>();

  constructor(
    readonly script: string,
    readonly size: number,
    /** The process's command-line argument, from its name. */
    readonly argsOf: (name: string) => string,
  ) {
    this.#members = Array.from({ length: size }, () => undefined);
    this.#incarnations = Array.from({ length: size }, () => 0);
  }

  /** Starts every seat's first process; resolves once all have said they are ready. */
  async start(): Promise<void> {
    await Promise.all(this.#members.map((_, seat) => this.#spawn(seat)));
  }

  /** The process that started the latest pass, if it is still running. */
  get leader(): Member | undefined {
    return this.#leader && this.#members.includes(this.#leader) ? this.#leader : undefined;
  }

  /** Every live process. */
  get members(): Member[] {
    return this.#members.filter((m): m is Member => m !== undefined);
  }

  /**
   * SIGKILLs `m` and resolves once it is gone; its seat's next process starts meanwhile (it takes
   * a few hundred ms: the others take over without waiting for it).
   */
  async kill(m: Member): Promise<void> {
    const seat = this.#members.indexOf(m);
    this.#ended.add(m.worker);
    await m.worker.kill();
    if (seat < 0) return;
    const spawning = this.#spawn(seat).finally(() => this.#spawning.delete(spawning));
    this.#spawning.add(spawning);
  }

  /** Stops every process with SIGTERM (the loop's `stop()`), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    await Promise.all(this.#spawning);
    this.#stopping = true;
    const all = this.members;
    for (const m of all) this.#ended.add(m.worker);
    await Promise.all(all.map((m) => m.worker.stop(5_000)));
  }

  async #spawn(seat: number): Promise<void> {
    if (this.#stopping) return;
    const name = `w${seat}.${++this.#incarnations[seat]!}`;
    const worker = spawnWorker(this.script, [this.argsOf(name)]);
    this.started++;
    const member: Member = { name, worker };
    this.#members[seat] = member;
    void this.#watch(member, seat);
    // A process that does not start is reported as a crash when it exits.
    await worker.next<LoopMessage>((m) => m.type === 'ready' || m.type === 'fatal', 60_000).catch(() => {});
  }

  /** Follows `m`'s pass reports until it exits; an exit the lab did not cause is a crash. */
  async #watch(m: Member, seat: number): Promise<void> {
    const hear = (message: LoopMessage) => {
      if (message.type === 'pass') this.#leader = m;
      return false;
    };
    const quiet = m.worker.next(hear, 24 * 3_600_000).catch(() => {});
    const exit = await m.worker.exited;
    await quiet;
    if (this.#members[seat] === m) this.#members[seat] = undefined;
    if (this.#ended.has(m.worker) && exit.signal !== null) return;
    if (this.#ended.has(m.worker) && exit.code === 0) return;
    const fatal = (m.worker.messages as LoopMessage[]).find((x) => x.type === 'fatal')?.error;
    this.crashes.push({ name: m.name, exit, fatal, output: m.worker.output });
  }
}
