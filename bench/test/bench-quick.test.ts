// Runs `bench:quick` end to end so that CI notices when a suite or an arm stops working.
// It checks that every figure was measured and is sane, never how fast anything is: on a
// shared machine absolute times are noise.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bench = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'oncelock-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Results {
  targets: Array<{ target: string; measured: string; met: boolean | null }>;
  suites: Array<{
    id: string;
    title: string;
    notes: string[];
    charts: Array<{ file: string }>;
    data: unknown;
  }>;
}

/** The `bench:quick` script of package.json, run with the workspace's tsx, writing into `out`. */
function runQuick(): Promise<{ code: number | null; output: string }> {
  const pkg = JSON.parse(readFileSync(join(bench, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [bin, ...args] = (pkg.scripts['bench:quick'] as string).split(' ');
  const tsx = fileURLToPath(new URL(`../../node_modules/.bin/${bin}`, import.meta.url));
  return new Promise((resolve) => {
    execFile(tsx, [...args, `--out=${out}`], { cwd: bench, maxBuffer: 1 << 24 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);

describe('bench:quick', () => {
  let results: Results;

  it('runs every suite and writes results.json, results.md and the charts', async () => {
    const { code, output } = await runQuick();
    expect(code, output).toBe(0);
    results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    expect(results.suites.map((s) => s.id)).toEqual([
      'uncontended',
      'handoff',
      'throughput',
      'scale',
      'bullmq',
      'metrics',
      'limits',
      'rate',
      'loops',
    ]);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    for (const s of results.suites) {
      expect(md).toContain(`## ${s.title}`);
      for (const c of s.charts) {
        expect(md).toContain(`](${c.file})`);
        expect(readFileSync(join(out, c.file), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<rect[\s\S]*<\/svg>\n$/);
      }
    }
  }, 240_000);

  it('measured oncelock, every alternative and the breakdown of oncelock', () => {
    const un = results.suites.find((s) => s.id === 'uncontended')?.data as Record<
      string,
      Array<Record<string, unknown>>
    >;
    expect(Object.keys(un)).toEqual(['redis', 'postgres', 'memory']);
    expect(un.redis?.map((r) => r.arm)).toEqual([
      'raw',
      'oncelock',
      'redlock',
      'sesame-redlock',
      'redis-semaphore',
      'oncelock-scripts',
      'oncelock-backend',
    ]);
    expect(un.postgres?.map((r) => r.arm)).toEqual([
      'raw',
      'oncelock',
      'row-async',
      'row-durable',
      'oncelock-backend',
    ]);
    expect(un.memory?.map((r) => r.arm)).toEqual(['async-mutex', 'oncelock', 'oncelock-backend']);
    for (const r of un.postgres ?? []) expect(finite(r.counterPerOp), 'WAL flushes per op').toBe(true);
    for (const rows of Object.values(un))
      for (const r of rows) {
        expect(finite(r.p50) && finite(r.p99) && finite(r.opsPerSec), JSON.stringify(r)).toBe(true);
        expect(r.p50 as number).toBeGreaterThan(0);
        expect(r.p99 as number).toBeGreaterThanOrEqual(r.p50 as number);
      }
  });

  it('saw no two holders at once, and timed real handoffs', () => {
    const rows = results.suites.find((s) => s.id === 'handoff')?.data as Array<
      Record<string, number | string>
    >;
    expect(rows.map((r) => `${r.store}/${r.arm}`)).toEqual([
      'redis/wake-one',
      'redis/oncelock',
      'redis/redlock',
      'redis/sesame-redlock',
      'redis/redis-semaphore',
      'postgres/raw-blocking',
      'postgres/notify-wake-one',
      'postgres/oncelock',
    ]);
    for (const r of rows) {
      expect(r.overlaps, `${r.store}/${r.arm}`).toBe(0);
      expect(r.n as number, `${r.store}/${r.arm} handoffs`).toBeGreaterThan(0);
      // A handoff cannot precede its release: a negative one would mean misaligned clocks.
      expect(r.p50 as number).toBeGreaterThan(0);
      if (r.store === 'redis') expect(r.commandsPerWaiterSecond as number).toBeGreaterThan(0);
    }
  });

  it('counted heartbeat round trips for held leases, and BullMQ adds', () => {
    const scale = results.suites.find((s) => s.id === 'scale')?.data as Array<
      Record<string, number | string>
    >;
    expect(scale.map((r) => r.arm)).toEqual(['oncelock', 'timer-per-lock', 'redis-semaphore']);
    for (const r of scale) {
      expect(r.lost, String(r.arm)).toBe(0);
      expect(r.roundTripsPerSecond as number, String(r.arm)).toBeGreaterThan(0);
      expect(r.redisCommandsPerSecond as number, String(r.arm)).toBeGreaterThan(0);
    }
    const bull = results.suites.find((s) => s.id === 'bullmq')?.data as Array<
      Record<string, number | string>
    >;
    expect(bull.map((r) => `${r.arm}/${r.case}`)).toContain('oncelock/duplicate');
    for (const r of bull) expect(finite(r.p50) && (r.p50 as number) > 0).toBe(true);
  });

  it('measured permits against redis-semaphore and a plain lease, never over the limit', () => {
    const d = results.suites.find((s) => s.id === 'limits')?.data as {
      limit: number;
      uncontended: Array<Record<string, number | string>>;
      handoff: Array<Record<string, number | string>>;
    };
    expect(d.uncontended.map((r) => `${r.store}/${r.arm}`)).toEqual([
      'redis/redis-semaphore',
      'redis/oncelock',
      'postgres/lease',
      'postgres/oncelock',
    ]);
    for (const r of d.uncontended) expect(finite(r.p50) && (r.p50 as number) > 0, String(r.arm)).toBe(true);
    for (const r of d.handoff) {
      expect(r.overlaps, `${r.arm}, hold ${r.holdMs}`).toBe(0);
      expect(r.n as number, `${r.arm} handoffs`).toBeGreaterThan(0);
      // Commands are counted on the private redis-server only.
      if (r.store !== 'postgres') expect(r.commandsPerWaiterSecond as number).toBeGreaterThan(0);
    }
    expect(d.handoff.some((r) => r.store === 'postgres')).toBe(true);
  });

  it('timed wake-ups to the body against the raw PUBLISH and NOTIFY floors', () => {
    const d = results.suites.find((s) => s.id === 'loops')?.data as {
      wakes: Array<Record<string, number | string>>;
    };
    expect(d.wakes.map((r) => `${r.store}/${r.arm}`)).toEqual([
      'redis/oncelock',
      'redis/floor',
      'postgres/oncelock',
      'postgres/floor',
    ]);
    for (const r of d.wakes) expect(finite(r.p50) && (r.p50 as number) > 0, `${r.store}/${r.arm}`).toBe(true);
  });

  it('states every target with the figures measured beside it', () => {
    expect(results.targets.length).toBeGreaterThanOrEqual(7);
    for (const t of results.targets) expect(t.measured).not.toBe('not measured in this run');
    // The handoff and load targets are read against the floor measured in the same run: the
    // raw wake-one handoff on Redis, a blocking pg_advisory_lock on PostgreSQL.
    const handoffRows = results.targets.filter(
      (t) => /handoff|waiter-second/.test(t.target) && !/permit/.test(t.target),
    );
    const redisRows = handoffRows.filter((t) => !t.target.startsWith('PostgreSQL'));
    const pgRows = handoffRows.filter((t) => t.target.startsWith('PostgreSQL'));
    expect(redisRows.length).toBeGreaterThanOrEqual(3);
    for (const t of redisRows) expect(t.measured, t.target).toContain('wake-one floor');
    expect(pgRows.length).toBeGreaterThanOrEqual(1);
    for (const t of pgRows) expect(t.target, t.measured).toContain('pg_advisory_lock');
    // The near-floor targets name the part of oncelock that the floor does without.
    const pgTarget = results.targets.find((t) => t.target.startsWith('PostgreSQL acquire'));
    expect(pgTarget?.measured).toContain('a lease row with a TTL and a fence alone');
    expect(existsSync(join(out, 'results.md'))).toBe(true);
  });
});
