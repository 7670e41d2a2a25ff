import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IterateTortureReport } from './iterate-torture.js';
import type { SingletonTortureReport } from './singleton-torture.js';
import { loopResults } from './soak-loops.js';

type Saved<T> = T & { at: string };
type Table = { head: string[]; rows: Array<Array<string | number>> };

const runAt = (r: { at: string }) => r.at.slice(0, 16).replace('T', ' ');
const s = (ms: number) => (ms / 1000).toFixed(2);

/** The loop tortures' runs in results/loops/, as tables for RELIABILITY.md. */
export function loopTables(): Array<{ title: string; table: Table }> {
  if (!existsSync(loopResults)) return [];
  const files = readdirSync(loopResults).filter((f) => f.endsWith('.json'));
  const read = <T>(prefix: string) =>
    files
      .filter((f) => f.startsWith(prefix))
      .sort()
      .map((f) => ({
        size: f.endsWith('-soak.json') ? 'soak' : 'ci',
        r: JSON.parse(readFileSync(new URL(f, loopResults), 'utf8')) as Saved<T>,
      }));
  const singles = read<SingletonTortureReport>('singleton-');
  const walks = read<IterateTortureReport>('iterate-');
  const out: Array<{ title: string; table: Table }> = [];
  if (singles.length > 0)
    out.push({
      title: 'Singleton under faults',
      table: {
        head: [
          'store',
          'size',
          'run (s)',
          'processes started',
          'passes',
          'faults',
          'takeover p50 / max (ms)',
          'wake-ups while a leader lived (lost)',
          'wake-up to pass p50 / max (ms)',
          'interleaved passes',
          'fence regressions',
          'stale writes refused',
          'lost updates',
          'crashes',
          'run at (UTC)',
        ],
        rows: singles.map(({ size, r }) => [
          r.options.lab,
          size,
          Math.round(r.durationMs / 1000),
          r.processes,
          r.passes,
          `kill ${r.faults.kill}, stop ${r.faults.stop}, cut ${r.faults.cut} (kept ${r.outcomes.filter((o) => o.kept).length})`,
          `${r.takeover.p50} / ${r.takeover.max} (TTL ${r.options.ttl})`,
          `${r.wakes.live} (${r.wakes.lostLive})`,
          `${r.wakes.latency.p50} / ${r.wakes.latency.max}`,
          r.interleaved.length,
          r.findings.fenceRegressions,
          r.findings.writes.rejected,
          r.findings.lostUpdates,
          r.crashes.length,
          runAt(r),
        ]),
      },
    });
  if (walks.length > 0)
    out.push({
      title: 'iterate with the leader killed',
      table: {
        head: [
          'store',
          'rows / chunk',
          'uninterrupted (s)',
          'killed 5 times (s)',
          'ratio',
          'bound: 1.2x + 5 TTLs (s)',
          'chunks saved',
          'chunks redone (rows twice)',
          'rows missing',
          'rows twice within saved chunks',
          'crashes',
          'run at (UTC)',
        ],
        rows: walks.map(({ r }) => [
          r.options.lab,
          `${r.options.rows.toLocaleString('en-US')} / ${r.options.chunk.toLocaleString('en-US')}`,
          s(r.uninterrupted.tookMs),
          s(r.killed.tookMs),
          `${(r.killed.tookMs / r.uninterrupted.tookMs).toFixed(2)}x`,
          s(r.boundMs),
          r.killed.checks.committed,
          `${r.killed.checks.redone.runs} (${r.killed.checks.redone.rows})`,
          r.killed.checks.missing,
          r.killed.checks.twiceInCommitted,
          r.uninterrupted.crashes.length + r.killed.crashes.length,
          runAt(r),
        ]),
      },
    });
  return out;
}
