// A periodic scan that never piles up: every instance ticks, at most one
// scans.
// #region timer
import { type LockBackend, runOnceOrCancel } from '@oncelock/core';

export function startScanner(
  backend: LockBackend,
  scan: () => Promise<number>,
  log: (line: string) => void,
  everyMs = 60_000,
): () => void {
  const scanOnce = runOnceOrCancel(scan, {
    backend,
    key: 'orders:scan',
    ttl: 30_000,
  });
  const tick = () => {
    // A timer callback must never reject: report both outcomes here.
    scanOnce().then(
      (r) =>
        log(
          r.status === 'ran'
            ? `scanned ${r.value} orders`
            : 'a scan is already running; tick skipped',
        ),
      (error: unknown) => log(`scan failed: ${String(error)}`),
    );
  };
  const timer = setInterval(tick, everyMs);
  return () => clearInterval(timer);
}
// #endregion timer
