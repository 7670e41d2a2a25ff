import { call } from '../call.js';
import type { LockBackend } from '../contract.js';
import { checkBackend, checkKey } from '../validate.js';
import { needs } from './needs.js';

/**
 * The notification topic of the loop `name`: its name, so a database trigger or another
 * program can wake it knowing only that (each backend's page says how a topic reaches its store).
 *
 * @param name - The loop's name, as given to `singleton()` or `iterate()`.
 */
export const topicOf = (name: string): string => name;

/**
 * Wakes the leader of the loop `name`, wherever in the fleet it runs: its body runs again at once
 * (after the pass in progress, if any) instead of at its next interval. Nothing queues: any
 * number of wake-ups during one pass cause at most one more pass, and a wake-up while no process
 * leads is dropped (the next leader runs a pass as soon as it leads anyway). Call it after
 * writing the rows the loop processes: from an HTTP handler, a queue consumer, a script.
 * A backend without `notify` (Redlock, Keyv) refuses with `CapabilityUnsupportedError`.
 *
 * @param backend - The store the loop runs on.
 * @param name - The loop's name.
 * @example
 * await db.insert(order);
 * await wakeSingleton(backend, 'pdf-pages');
 */
export async function wakeSingleton(backend: LockBackend, name: string): Promise<void> {
  checkBackend(backend);
  checkKey(name, 'name');
  needs(backend, ['notify'], 'wake-ups');
  await call(backend, 'notify', () => backend.notify!(topicOf(name)));
}
