/** Thrown by {@link deadline} when a call neither resolved nor rejected in time: a hang. */
export class HangError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} neither resolved nor rejected within ${ms} ms`);
    this.name = 'HangError';
  }
}

/**
 * `promise`, or a `HangError` after `ms`. The lab's answer to "never a hang": every call it
 * makes through the public API is bounded, and a bound that fires is a finding, not a retry.
 */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HangError(what, ms)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
