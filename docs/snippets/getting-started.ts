// The five lines of the Getting started page, with Redis.
// #region wrap
import { redisBackend, runOnceOrCancel } from '@oncelock/redis';

async function buildReport(day: string): Promise<string> {
  return `report for ${day}`; // your work here
}

const backend = redisBackend({ url: 'redis://127.0.0.1:6379' });
const nightlyReport = runOnceOrCancel(buildReport, {
  backend,
  key: 'nightly-report',
  ttl: 30_000,
});

const result = await nightlyReport('2024-06-01');
if (result.status === 'cancelled')
  console.log('another worker is building it right now');
// #endregion wrap

// #region close
// on shutdown: closes the connection oncelock opened from the URL
await backend.close();
// #endregion close
