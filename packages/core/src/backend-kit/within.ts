/**
 * Rejects if `work` has not settled within `ms`, after calling `onTimeout` (to end a connection
 * that would otherwise stay busy, say). A late result is dropped; a late failure is handled, so
 * it is never an unhandled rejection.
 *
 * @typeParam T - What `work` resolves to.
 * @param work - The operation under way; it is not cancelled, only no longer waited for.
 * @param ms - How long to wait for it, in milliseconds.
 * @param onTimeout - Called once, before the rejection, when `ms` passes first. Optional.
 */
export function within<T>(work: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  // One promise and one timer, not a race of two promises and a finally: on a fast store these
  // wrappers cost a measurable share of a round trip.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`got no answer within ${ms} ms`));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
