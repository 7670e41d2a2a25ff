import { type LockBackend, lease } from '@oncelock/core';
import { historyNow } from '../history.js';

/**
 * The child side of the killed-holder and frozen-holder tests: takes a lease and reports to the
 * parent over IPC, `{ type: 'held', token, fence? }` once held and `{ type: 'lost', at, reason }`
 * when its signal fires (`at` is wall-clock ms with sub-ms precision, comparable across
 * processes). The process then stays alive, as a worker doing the guarded work would.
 */
export async function holdLeaseForParent(backend: LockBackend, key: string, ttl: number): Promise<void> {
  if (!process.send) throw new Error('holdLeaseForParent runs in a child process with an IPC channel');
  const send = process.send.bind(process);
  process.on('disconnect', () => process.exit(0));
  const l = await lease(backend, key, { ttl });
  l.signal.addEventListener('abort', () => {
    send({ type: 'lost', at: historyNow(), reason: l.signal.reason?.message });
  });
  send({ type: 'held', token: l.token, ...(backend.guarantees.fencing ? { fence: l.fence } : {}) });
  // The heartbeat's timer does not keep a process alive on its own; the work it guards would.
  setInterval(() => {}, 60_000);
}
