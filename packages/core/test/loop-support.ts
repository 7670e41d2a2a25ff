import type { LockBackend, Singleton } from '@oncelock/core';

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every 10 ms until it holds, for at most `ms`; resolves whether it held. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) return false;
    await delay(10);
  }
  return true;
}

/**
 * A second backend object over the same memory store, as a second process would have its own
 * client: its own heartbeat, and a switch that cuts it off from the store (every call fails),
 * as a frozen or partitioned process is.
 */
export function peer(inner: LockBackend, without: readonly (keyof LockBackend)[] = []) {
  const cut = { on: false };
  const guard =
    <A extends unknown[], T>(fn: (...args: A) => Promise<T>) =>
    (...args: A): Promise<T> =>
      cut.on ? Promise.reject(new Error('ECONNRESET (cut off)')) : fn(...args);
  const backend = { ...inner } as Record<string, unknown>;
  for (const [name, value] of Object.entries(inner))
    if (typeof value === 'function' && name !== 'close')
      backend[name] = guard((value as (...a: unknown[]) => Promise<unknown>).bind(inner));
  for (const name of without) delete backend[name];
  return { backend: backend as unknown as LockBackend, cut };
}

/** A promise and the function that resolves it: a gate a body waits at. */
export function gate(): { open: () => void; passed: Promise<void> } {
  let open!: () => void;
  const passed = new Promise<void>((r) => {
    open = r;
  });
  return { open, passed };
}

/** Stops every loop, whatever state it is in. */
export const stopAll = (loops: readonly Singleton[]) => Promise.all(loops.map((l) => l.stop()));
