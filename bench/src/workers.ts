import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { wallNow } from './clock.js';

/** A request to a worker process and its answer, matched by `seq`. */
interface Request {
  seq: number;
  body: unknown;
}
type Answer = { seq: number; ok: unknown } | { seq: number; error: string };

/** The parent's handle on a worker process that answers requests one at a time. */
export interface Worker {
  ask<T>(body: unknown): Promise<T>;
  /** Milliseconds to subtract from this worker's `wallNow()` to get the parent's. */
  readonly offset: number;
  /** Measures {@link offset} again: best done while the machine is otherwise idle. */
  calibrate(): Promise<void>;
  stop(): Promise<void>;
}

const PING = { type: 'ping' } as const;

/**
 * Forks `module` (a worker built with {@link serve}) and measures its clock offset: over a few
 * pings, the reply with the shortest round trip is the one whose timestamp is best known to
 * lie halfway between sending and receiving.
 */
export async function startWorker(module: URL, env: Record<string, string> = {}): Promise<Worker> {
  const child = fork(fileURLToPath(module), [], { env: { ...process.env, ...env }, stdio: 'inherit' });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let seq = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (m: Answer) => {
    const p = pending.get(m.seq);
    pending.delete(m.seq);
    if ('error' in m) p?.reject(new Error(m.error));
    else p?.resolve(m.ok);
  });
  child.once('exit', (code, signal) => {
    for (const p of pending.values())
      p.reject(new Error(`worker exited (${code ?? signal}) before answering`));
    pending.clear();
  });
  const ask = <T>(body: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const request: Request = { seq: ++seq, body };
      pending.set(request.seq, { resolve: resolve as (v: unknown) => void, reject });
      child.send(request);
    });

  const worker = {
    ask,
    offset: 0,
    async calibrate() {
      let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
      for (let i = 0; i < 30; i++) {
        const sent = wallNow();
        const theirs = await ask<number>(PING);
        const back = wallNow();
        if (back - sent < best.rtt) best = { rtt: back - sent, offset: theirs - (sent + back) / 2 };
      }
      worker.offset = best.offset;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  await worker.calibrate();
  return worker;
}

/** Starts `n` workers at once, then measures each one's clock offset while the others are idle. */
export async function startWorkers(n: number, module: URL): Promise<Worker[]> {
  const started = await Promise.allSettled(Array.from({ length: n }, () => startWorker(module)));
  const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stopAll(workers);
    throw failed.reason;
  }
  for (const w of workers) await w.calibrate();
  return workers;
}

/**
 * The worker side: answers each request with `handle(body)`, and pings with its clock. Exits
 * when the parent goes away, so a crashed bench leaves no process behind.
 */
export function serve(handle: (body: unknown) => Promise<unknown>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (r: Request) => {
    const reply = (a: Answer) => process.send?.(a);
    const body = r.body as { type?: string };
    if (body?.type === 'ping') {
      reply({ seq: r.seq, ok: wallNow() });
      return;
    }
    handle(r.body).then(
      (ok) => reply({ seq: r.seq, ok }),
      (e: unknown) => reply({ seq: r.seq, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    );
  });
}

/** Closes the workers, whatever state they are in. */
export async function stopAll(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
}
