import { randomUUID } from 'node:crypto';
import type { AcquireResult, PostgresBackend } from '@oncelock/postgres';

/**
 * A waiter driven by hand through subscribe and `waiting` acquires, as core's waiting loop drives
 * one, without its fallback poll: its backend, owner, how often its subscription was called, and
 * the next call.
 */
export interface Waiter {
  readonly backend: PostgresBackend;
  readonly key: string;
  readonly owner: string;
  calls: number;
  woken(): Promise<void>;
  unsubscribe(): void;
  /** One waiting acquire, as core's loop sends it once subscribed. */
  acquire(limit?: number): Promise<AcquireResult>;
  /** {@link acquire}, granted or not. */
  tryOnce(limit?: number): Promise<boolean>;
}

export async function waiter(
  backend: PostgresBackend,
  key: string,
  owner: string = randomUUID(),
  ttl = 10_000,
): Promise<Waiter> {
  let next: (() => void) | undefined;
  const w: Waiter = {
    backend,
    key,
    owner,
    calls: 0,
    woken: () => new Promise<void>((resolve) => (next = resolve)),
    unsubscribe: () => {},
    acquire: (limit) => backend.acquire({ key, owner, ttl, waiting: true, ...(limit && { limit }) }),
    tryOnce: async (limit) => (await w.acquire(limit)).granted,
  };
  w.unsubscribe = await backend.subscribe!(
    key,
    () => {
      w.calls++;
      next?.();
    },
    owner,
  );
  return w;
}
