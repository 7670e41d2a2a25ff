// Small waits every oncelock test needs. Free of vitest, so child processes can load them too.

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with `signal`'s abort reason, also when it has already fired (a lost lease's `LockLostError`). */
export function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );
}

/** Polls `check` every 25 ms until it resolves true or `ms` pass; resolves its last answer. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (performance.now() >= until) return false;
    await delay(25);
  }
}
