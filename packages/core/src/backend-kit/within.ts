import { deadline } from './deadlines.js';

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
  // One promise and a shared deadline timer, not a race of two promises and a timer per call:
  // on a fast store these wrappers cost a measurable share of a round trip.
  return new Promise<T>((resolve, reject) => {
    const timer = deadline(ms, () => {
      let cause: unknown;
      try {
        onTimeout?.();
      } catch (error) {
        // Nothing may throw from the shared timer: the failure goes with the rejection.
        cause = error;
      }
      reject(new Error(`got no answer within ${ms} ms`, cause === undefined ? undefined : { cause }));
    });
    work.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (error: unknown) => {
        timer.cancel();
        reject(error);
      },
    );
  });
}
