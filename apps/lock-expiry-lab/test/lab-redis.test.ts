import { describe } from 'vitest';
import { ciRunsOf } from './ci-runs.js';

// Own redis-servers on free ports (never the shared 6379), restarted and partitioned for real.
describe('lock-expiry-lab CI runs: Redis and Redlock', () => ciRunsOf(['redis', 'redlock']));
