import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The sample as its README runs it: the built entry point (npm test builds first), real BullMQ
// worker processes on the local Redis, at a small size: 2 tenants x 12 jobs, 2 processes x
// concurrency 6 and jobs of 300 ms, so that without the limit all 12 jobs of a tenant can run at once.
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const run = promisify(execFile);
const small = ['--tenants', '2', '--jobs', '12', '--workers', '2', '--concurrency', '6'];
const LIMIT = 5;

interface Arm {
  mostAtOnce: Record<string, number>;
  jobsRun: number;
  failed: number;
  putBacks: number;
}

describe.each(['redis', 'postgres'])('the sample, permits on %s', (store) => {
  it(`never runs more than ${LIMIT} jobs of a tenant with the limit, and more without it`, async () => {
    const { stdout } = await run(process.execPath, [
      main,
      ...small,
      '--limit',
      String(LIMIT),
      '--store',
      store,
    ]);
    expect(stdout).toContain('most jobs of a tenant running at once');
    const last = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      limit: number;
      withoutLimit: Arm;
      withLimit: Arm;
    };
    expect(last.limit).toBe(LIMIT);
    const { withoutLimit: without, withLimit: limited } = last;
    for (const arm of [without, limited]) {
      expect(Object.keys(arm.mostAtOnce)).toEqual(['tenant-a', 'tenant-b']);
      expect(arm).toMatchObject({ jobsRun: 24, failed: 0 });
    }
    expect(Math.max(...Object.values(limited.mostAtOnce))).toBeLessThanOrEqual(LIMIT);
    expect(Math.max(...Object.values(without.mostAtOnce))).toBeGreaterThan(LIMIT);
    // The limit was met: jobs over it were put back, and none without it.
    expect(limited.putBacks).toBeGreaterThan(0);
    expect(without.putBacks).toBe(0);
  }, 60_000);
});

describe('the sample command', () => {
  it('exits 2 with the usage on a bad flag, naming the flag', async () => {
    const failure = await run(process.execPath, [main, '--concurrency', 'lots']).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('--concurrency must be a whole number from 1 to 1000, got "lots"');
    expect(failure.stderr).toContain('usage:');
    expect(failure.stdout).toBe('');
  });
});
