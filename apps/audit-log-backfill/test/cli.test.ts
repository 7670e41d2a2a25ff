import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// The demo command as the README runs it: the built entry point (npm test builds first).
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'backfill-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const keys = ['rowsFilled', 'duplicateWork', 'errors', 'jobsEnqueued', 'peakQueued', 'drainMs'];
const short = ['--backlog', '200', '--arrivals', '40', '--arrival-ms', '300', '--batch', '50'];

describe('the demo command', () => {
  it('prints the table, then one JSON line with the three arms, and writes the chart', async () => {
    const { stdout } = await run(process.execPath, [main, ...short, '--trigger-ms', '20', '--out', out]);
    const lines = stdout.trim().split('\n');
    expect(stdout).toContain('duplicate work (rows)');
    const last = JSON.parse(lines.at(-1)!);
    expect(Object.keys(last)).toEqual(['naive', 'oncelock', 'loop']);
    for (const arm of ['naive', 'oncelock', 'loop']) expect(Object.keys(last[arm])).toEqual(keys);
    expect(last.oncelock).toMatchObject({ rowsFilled: 240, duplicateWork: 0, errors: 0 });
    expect(last.loop).toMatchObject({
      rowsFilled: 240,
      duplicateWork: 0,
      errors: 0,
      jobsEnqueued: 0,
      peakQueued: 0,
    });
    const svg = readFileSync(join(out, 'audit-log-backfill.svg'), 'utf8');
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.match(/<path /g)?.length).toBe(6); // two panels, three arms
  });

  it('exits 2 with the usage on a bad flag, and writes nothing', async () => {
    const bad = join(out, 'bad');
    const failure = await run(process.execPath, [main, '--workers', 'many', '--out', bad]).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('--workers must be a whole number');
    expect(failure.stderr).toContain('usage:');
    expect(existsSync(bad)).toBe(false);
  });
});
