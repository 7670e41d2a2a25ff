import { iterationProgress, type LockBackend } from '@oncelock/core';
import { seededRandom } from '@oncelock/testkit/faults';
import pg from 'pg';
import { delay } from '../deadline.js';
import { pgExec } from '../labs/postgres.js';
import { createBackend } from '../targets.js';
import { Fleet, type LoopCrash, loopScript } from './fleet.js';
import { type IterateChecks, iterateChecks } from './iterate-checks.js';
import { iterateTablesSql, type RowCursor } from './iterate-tables.js';
import type { IterateWorkerConfig } from './iterate-worker.js';
import { type LoopLab, type LoopLabKind, openLoopLab } from './lab.js';

export interface IterateTortureOptions {
  lab: LoopLabKind;
  processes: number;
  rows: number;
  chunk: number;
  ttl: number;
  /** ms of "processing" per chunk. */
  workMs: number;
  /** SIGKILLs of the leading process, spread evenly over the walk. */
  kills: number;
  seed: number;
}

/** The CI size: 10,000 rows in chunks of 500, killed 5 times. */
export const ciIterateOptions = (lab: LoopLabKind): IterateTortureOptions => ({
  lab,
  processes: 4,
  rows: 10_000,
  chunk: 500,
  ttl: 1000,
  workMs: 10,
  kills: 5,
  seed: 1,
});

/** The size: 100,000 rows in chunks of 1,000, killed 5 times. */
export const soakIterateOptions = (lab: LoopLabKind): IterateTortureOptions => ({
  ...ciIterateOptions(lab),
  rows: 100_000,
  chunk: 1000,
  seed: 2,
});

/** One walk over the rows: how long it took, the kills, and what the tables say. */
export interface WalkReport {
  /** From the first step's start to the save that found the walk caught up, ms. */
  tookMs: number;
  kills: Array<{ target: string; afterChunks: number }>;
  checks: IterateChecks;
  crashes: LoopCrash[];
  processes: number;
}

export interface IterateTortureReport {
  options: IterateTortureOptions;
  /** The same walk without faults, in the same run: the time to compare with. */
  uninterrupted: WalkReport;
  killed: WalkReport;
  /** 1.2 x the uninterrupted walk + one TTL per kill, ms: the bound on the killed walk. */
  boundMs: number;
}

/**
 * `iterate` over `rows` rows: once without faults, then again with the leading process
 * SIGKILLed `kills` times (another process takes over from the saved cursor). Each walk is
 * checked from its tables (see `iterateChecks`); the killed walk's time is set against the
 * uninterrupted one's.
 */
export async function iterateTorture(o: IterateTortureOptions): Promise<IterateTortureReport> {
  const lab = await openLoopLab(o.lab);
  const watcher = createBackend(lab.direct.backend);
  try {
    const uninterrupted = await walk(lab, watcher, o, 'walk-plain', 0);
    const killed = await walk(lab, watcher, o, 'walk-killed', o.kills);
    return {
      options: o,
      uninterrupted,
      killed,
      boundMs: Math.round(1.2 * uninterrupted.tookMs + o.kills * o.ttl),
    };
  } finally {
    await watcher.close().catch(() => {});
    await lab.stop();
  }
}

async function walk(
  lab: LoopLab,
  watcher: LockBackend,
  o: IterateTortureOptions,
  loop: string,
  kills: number,
): Promise<WalkReport> {
  await pgExec(iterateTablesSql(lab.dataSchema, o.rows));
  const fleet = new Fleet(loopScript('iterate-worker.js'), o.processes, (name) => {
    const config: IterateWorkerConfig = {
      name,
      backend: lab.spec(name).backend,
      postgresUrl: lab.postgresUrl,
      schema: lab.dataSchema,
      loop,
      ttl: o.ttl,
      chunk: o.chunk,
      workMs: o.workMs,
    };
    return JSON.stringify(config);
  });
  const random = seededRandom(o.seed);
  const chunks = Math.ceil(o.rows / o.chunk);
  const made: WalkReport['kills'] = [];
  const giveUp = performance.now() + 10 * 60_000;
  try {
    await fleet.start();
    for (;;) {
      const p = await iterationProgress<RowCursor>(watcher, loop).catch(() => null);
      if (p?.caughtUp || fleet.crashes.length > 0 || performance.now() > giveUp) break;
      // Kill number k when the saved walk passes k / (kills + 1) of its chunks, a moment into a chunk.
      const leader = fleet.leader;
      if (made.length < kills && leader && (p?.chunks ?? 0) >= ((made.length + 1) * chunks) / (kills + 1)) {
        await delay(random() * (o.workMs + 10));
        made.push({ target: leader.name, afterChunks: p?.chunks ?? 0 });
        await fleet.kill(leader);
        continue;
      }
      await delay(10);
    }
    await fleet.stop();
    const progress = await iterationProgress<RowCursor>(watcher, loop);
    const client = new pg.Client({ connectionString: lab.postgresUrl });
    await client.connect();
    try {
      const first = await client.query<{ at: Date }>(`SELECT min(at) AS at FROM "${lab.dataSchema}".runs`);
      const began = first.rows[0]?.at?.getTime() ?? Number.NaN;
      return {
        tookMs: progress ? progress.updatedAt - began : Number.NaN,
        kills: made,
        checks: await iterateChecks(client, lab.dataSchema, o.rows, progress),
        crashes: fleet.crashes,
        processes: fleet.started,
      };
    } finally {
      await client.end().catch(() => {});
    }
  } finally {
    await fleet.stop().catch(() => {});
  }
}

/** What a run must show; `timed` adds the bound on the killed walk's time (the soak's). */
export function iterateVerdict(r: IterateTortureReport, timed: boolean): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  for (const [name, w] of [
    ['uninterrupted', r.uninterrupted],
    ['killed', r.killed],
  ] as const) {
    problems.push(...w.checks.problems.map((p) => `${name}: ${p}`));
    if (w.crashes.length > 0) problems.push(`${name}: ${w.crashes.length} process crash(es)`);
  }
  if (r.killed.kills.length !== r.options.kills)
    problems.push(`${r.killed.kills.length} kills made, not ${r.options.kills}`);
  if (r.killed.checks.redone.runs > r.killed.kills.length)
    problems.push(`${r.killed.checks.redone.runs} chunks redone, more than one per kill`);
  if (r.uninterrupted.checks.redone.runs > 0) problems.push('the uninterrupted walk redid a chunk');
  if (timed && !(r.killed.tookMs <= r.boundMs))
    problems.push(
      `the killed walk took ${r.killed.tookMs} ms, over 1.2x the uninterrupted + ${r.options.kills} TTLs (${r.boundMs} ms)`,
    );
  return { ok: problems.length === 0, problems };
}

export function iterateSummary(r: IterateTortureReport): string {
  const o = r.options;
  const line = (name: string, w: WalkReport) =>
    `  ${name}: ${(w.tookMs / 1000).toFixed(2)} s, ${w.checks.committed} chunks saved, ${w.checks.redone.runs} redone (${w.checks.redone.rows} rows twice), rows missing ${w.checks.missing}, twice within saved chunks ${w.checks.twiceInCommitted}, kills ${w.kills.length}, processes ${w.processes}, crashes ${w.crashes.length}`;
  return [
    `iterate on ${o.lab}: ${o.rows} rows in chunks of ${o.chunk}, ${o.processes} processes, TTL ${o.ttl} ms`,
    line('uninterrupted', r.uninterrupted),
    line('killed', r.killed),
    `  killed / uninterrupted ${(r.killed.tookMs / r.uninterrupted.tookMs).toFixed(2)}x; bound 1.2x + ${o.kills} TTLs = ${r.boundMs} ms`,
  ].join('\n');
}
