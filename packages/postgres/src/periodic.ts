/**
 * Housekeeping run once every `every` calls of `tick()`, never two at once, its failure ignored
 * (the next run tries again). `settled()` resolves once the run under way, if any, has ended.
 *
 * @param every - How many ticks apart runs are.
 * @param task - The housekeeping: one round trip, say.
 */
export function periodic(every: number, task: () => Promise<unknown>) {
  let ticks = 0;
  let running: Promise<unknown> | undefined;
  return {
    tick(): void {
      if (++ticks % every !== 0 || running) return;
      running = task()
        .catch(() => {})
        .finally(() => (running = undefined));
    },
    settled: (): Promise<unknown> => running ?? Promise.resolve(),
  };
}
