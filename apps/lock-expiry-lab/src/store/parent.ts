import type { Worker } from '@oncelock/testkit/faults';
import { FencedStore } from '@oncelock/testkit/history';
import { isMessage, type ParentMessage, type WorkerMessage } from '../protocol.js';

/**
 * The protected resource, kept in the lab process and written by the workers over IPC. With a
 * fence, a write is applied only if its fence is not older than the newest one applied (the
 * check and the write happen in one synchronous step, so nothing interleaves). Without one
 * (Redlock, Keyv give none) every write is applied: the store has nothing to check.
 */
export class ParentStore {
  readonly #fenced = new FencedStore<string>();
  #unfenced: string | undefined;

  write(key: string, fence: number | null, value: string): boolean {
    if (fence !== null) return this.#fenced.write(key, fence, value);
    this.#unfenced = value;
    return true;
  }

  value(key: string): string | undefined {
    return this.#fenced.get(key) ?? this.#unfenced;
  }

  /** Answers `worker`'s writes until it exits. */
  async serve(worker: Worker, key: string): Promise<void> {
    for (;;) {
      let m: Extract<WorkerMessage, { type: 'write' }>;
      try {
        m = await worker.next<typeof m>(isMessage('write'), 3_600_000);
      } catch {
        return; // the worker has exited
      }
      const reply: ParentMessage = { type: 'written', id: m.id, accepted: this.write(key, m.fence, m.value) };
      await worker.send(reply).catch(() => {});
    }
  }
}
