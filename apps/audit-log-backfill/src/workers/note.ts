import type { JobReport } from '../metrics.js';

/** Worker process to parent, over IPC. */
export type WorkerNote = { type: 'ready' } | { type: 'job'; report: JobReport } | { type: 'closed' };

/** Sends `m` to the parent, if there is one listening. */
export const note = (m: WorkerNote): void => {
  process.send?.(m);
};

/**
 * The child's side of a worker process: says `ready` once `ready` resolves (exits on failure),
 * runs `close` when the parent says `stop`, and exits when the parent goes away.
 *
 * @param ready - Resolves when the worker can take work.
 * @param close - Finishes the work in progress and frees connections.
 */
export function serveParent(ready: Promise<unknown>, close: () => Promise<void>): void {
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stop') return;
    void close().then(() => {
      note({ type: 'closed' });
      process.disconnect?.();
    });
  });
  process.on('disconnect', () => process.exit(0));
  ready.then(
    () => note({ type: 'ready' }),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
