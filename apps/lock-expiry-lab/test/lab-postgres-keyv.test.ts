import { describe } from 'vitest';
import { ciRunsOf } from './ci-runs.js';

describe('lock-expiry-lab CI runs: Postgres and Keyv', () => ciRunsOf(['postgres', 'keyv']));
