import { type Lease, type LockBackend, lease } from '@oncelock/core';
import { historyNow } from '../history.js';

/** Messages a holder sends its parent. `at` is wall-clock ms with sub-ms precision, comparable across processes. */
export type HolderMessage =
  | { type: 'held'; token: string; fence?: number; at: number }
  | { type: 'lost'; at: number; name?: string; reason?: string };

export interface HoldOptions {
  /**
   * Answers the parent's other messages with the lease in hand (a fenced write, say): what it
   * resolves is sent back. Errors are sent as `{ type: 'rejected', name, code, latest }`.
   */
  answer?: (message: unknown, held: Lease) => Promise<object>;
  /** Hold one of at most `limit` permits of the key instead of a plain lease. Default 1. */
  limit?: number;
  /** Milliseconds to wait for the key if it is held (a waiter in its own process). Default 0. */
  wait?: number;
}

/**
 * The child side of the killed-holder and frozen-holder tests, and of waiters in processes of
 * their own (`wait`): takes a lease and reports to the parent over IPC (`HolderMessage`): `held`
 * once held (with when, by historyNow), `lost` when its signal fires. The
 * process then stays alive, as a worker doing the guarded work would, and exits when its parent
 * goes.
 */
export async function holdLeaseForParent(
  backend: LockBackend,
  key: string,
  ttl: number,
  options: HoldOptions = {},
): Promise<void> {
  if (!process.send) throw new Error('holdLeaseForParent runs in a child process with an IPC channel');
  const send = (message: object) => process.connected && process.send?.(message);
  process.on('disconnect', () => process.exit(0));
  const l = await lease(backend, key, { ttl, limit: options.limit ?? 1, wait: options.wait ?? 0 });
  l.signal.addEventListener('abort', () => {
    const reason = l.signal.reason as Error | undefined;
    send({ type: 'lost', at: historyNow(), name: reason?.name, reason: reason?.message });
  });
  const { answer } = options;
  if (answer) {
    process.on('message', (message) => {
      answer(message, l).then(send, (error) => {
        const { name, code, latest } = error as { name?: string; code?: string; latest?: number };
        send({ type: 'rejected', name, code, latest });
      });
    });
  }
  send({
    type: 'held',
    token: l.token,
    ...(backend.guarantees.fencing ? { fence: l.fence } : {}),
    at: historyNow(),
  });
  // The heartbeat's timer does not keep a process alive on its own; the work it guards would.
  setInterval(() => {}, 60_000);
}
