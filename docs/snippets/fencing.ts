// Fencing: the protected store rejects a write whose fence is older than
// one it has seen.
// #region in-process
import {
  FencedResource,
  type LockBackend,
  lease,
  StaleFenceError,
} from '@oncelock/core';

export async function fencedWrites(
  backend: LockBackend,
): Promise<string[]> {
  const report = new FencedResource<string>('daily-report');
  const log: string[] = [];

  const first = await lease(backend, 'report', {
    ttl: 1_000,
    autoExtend: false,
  });
  // stands in for "first paused until its lease expired"
  await first.release();
  const second = await lease(backend, 'report', { ttl: 1_000 });

  report.write(second.fence, 'written by the current holder');
  try {
    // older fence
    report.write(first.fence, 'late write from the old holder');
  } catch (error) {
    if (error instanceof StaleFenceError)
      log.push(
        `rejected fence ${error.fence}, store has ${error.latest}`,
      );
  }
  await second.release();
  log.push(`value: ${report.value}`);
  return log;
}
// #endregion in-process
