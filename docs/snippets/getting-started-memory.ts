// Getting started without a server: the in-memory backend, for one
// process and for tests.
// #region memory
import { memoryBackend, runOnceOrCancel } from '@oncelock/core';

// one process only; same API as every other backend
const backend = memoryBackend();
const nightlyReport = runOnceOrCancel(buildReport, {
  backend,
  key: 'nightly-report',
});

const [a, b] = await Promise.all([
  nightlyReport('2024-06-01'),
  nightlyReport('2024-06-01'),
]);
// "ran cancelled": the overlapping call did not run
console.log(a.status, b.status);
// #endregion memory

await backend.close();

async function buildReport(day: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return `report for ${day}`;
}
