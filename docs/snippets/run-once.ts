// runOnceOrCancel in its function and decorator forms, with keys from
// arguments.
// #region function
import {
  argsKey,
  type LockBackend,
  runOnceOrCancel,
} from '@oncelock/core';

export function makeShardScan(backend: LockBackend) {
  const scanShard = runOnceOrCancel(
    async (shard: number) => countStale(shard),
    {
      backend,
      key: (shard) => `scan:shard-${shard}`, // one lock per shard
      ttl: 30_000, // extended in the background while the scan runs
    },
  );
  return scanShard;
}
// later:
//   const r = await scanShard(3);
//   if (r.status === 'ran') console.log('stale rows:', r.value);
//   else console.log('shard 3 is already being scanned elsewhere');
// #endregion function

// #region args-key
export function makeExport(backend: LockBackend) {
  return runOnceOrCancel(
    async (filter: { tenant: string; since: Date }) => exportRows(filter),
    {
      backend,
      // Same tenant and date in any key order -> same key:
      // "export:v1:<128-bit hash>".
      key: (filter) => argsKey('export', [filter]),
    },
  );
}
// #endregion args-key

// #region decorator
export class Reports {
  constructor(readonly backend: LockBackend) {}

  // A call that finds the key held resolves `undefined` without running.
  @runOnceOrCancel({
    backend(this: Reports) {
      return this.backend;
    },
    key: (day: string) => `report:${day}`,
    ttl: 60_000,
  })
  async build(day: string): Promise<string | undefined> {
    return renderReport(day);
  }
}
// #endregion decorator

async function countStale(shard: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return shard * 10;
}
async function exportRows(filter: {
  tenant: string;
  since: Date;
}): Promise<number> {
  return filter.tenant.length;
}
async function renderReport(day: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return `report for ${day}`;
}
