import { rateLimit } from '@oncelock/core';
import { redisBackend } from '@oncelock/redis';
import { Redis } from 'ioredis';
import {
  postgresRateArms,
  type Rate,
  type RateArm,
  type RateArmSpec,
  rateArms,
  watchedDecisions,
} from '../arms/rate.js';
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { count, ms, times, VS_REFERENCE, vsReferenceRow } from '../format.js';
import { interleave } from '../interleave.js';
import type { SuiteResult, Table } from '../report/types.js';
import { againstFloor, type Summary, summarize, type VsFloor } from '../stats.js';
import { resetStoreStats, storeLoadSince } from '../stores.js';

// Sizes of the rate suite, by profile (kept here: only this suite reads them).
const sizes = {
  full: { rounds: 10, ms: 250, counted: 200, callers: 4, perSecond: 200, waitMs: 4000 },
  quick: { rounds: 2, ms: 40, counted: 20, callers: 4, perSecond: 200, waitMs: 500 },
};

/** The decisions compared: a rate never reached (every call granted) and one used up (every call after the first refused). */
const scenarios: ReadonlyArray<{ id: string; label: string; rate: Rate }> = [
  { id: 'granted', label: 'granted (a rate never reached)', rate: { limit: 1_000_000, per: 1000 } },
  { id: 'refused', label: 'refused (1 per 10 minutes, used up)', rate: { limit: 1, per: 600_000 } },
];

/** The stores the decisions are compared on, each against rate-limiter-flexible on the same store. */
type Store = 'redis' | 'postgres';

/** Against rate-limiter-flexible's `consume` on the same store. */
export interface DecisionFigures extends VsFloor {
  readonly store: Store;
  readonly scenario: string;
  readonly arm: string;
  readonly label: string;
  /** Redis commands per decision, those inside scripts included, and scripts per decision (Redis only). */
  readonly commandsPerDecision?: number;
  readonly scriptsPerDecision?: number;
}

export interface WaitFigures {
  readonly callers: number;
  readonly perSecond: number;
  readonly n: number;
  /** How long the store told callers to wait for their slot (the decision's delay). */
  readonly delay: Summary;
  /** Server TIME read right after the wait resolved, minus the slot's `at`: an upper bound of the lateness. */
  readonly lateUpper: Summary;
  /** The same less that TIME's round trip: a lower bound. */
  readonly lateLower: Summary;
}

export interface RateData {
  readonly decisions: DecisionFigures[];
  readonly wait: WaitFigures;
}

/** Decisions one after another on one key for `ms` milliseconds. */
async function decide(arm: RateArm, key: string, rate: Rate, span: number) {
  const samples: number[] = [];
  const start = now();
  while (now() - start < span) {
    const t = now();
    await arm.decide(key, rate);
    samples.push(now() - t);
  }
  return { samples, ms: now() - start };
}

/** Each arm's decisions in one scenario, interleaved round by round, then (on Redis) its commands per decision. */
async function decisions(
  ctx: Context,
  store: Store,
  specs: readonly RateArmSpec[],
  scenario: (typeof scenarios)[number],
) {
  const p = sizes[ctx.profile.name];
  const arms = new Map<RateArmSpec, RateArm>();
  const acc = new Map(specs.map((s) => [s, { samples: [] as number[], ms: 0, commands: 0, scripts: 0 }]));
  const key = (s: RateArmSpec) => `bench:rate:${scenario.id}:${s.id}`;
  try {
    for (const s of specs) {
      const arm = await s.make();
      arms.set(s, arm);
      await decide(arm, key(s), scenario.rate, p.ms); // warm-up: connection, scripts, the first grant
    }
    await interleave(specs, p.rounds, async (s) => {
      const r = await decide(arms.get(s)!, key(s), scenario.rate, p.ms);
      const a = acc.get(s)!;
      a.samples.push(...r.samples);
      a.ms += r.ms;
    });
    for (const s of store === 'redis' ? specs : []) {
      const cpu = await resetStoreStats(ctx.redis.admin);
      for (let i = 0; i < p.counted; i++) await arms.get(s)!.decide(key(s), scenario.rate);
      const load = await storeLoadSince(ctx.redis.admin, cpu);
      const a = acc.get(s)!;
      a.commands = load.totalCommands / p.counted;
      a.scripts = load.scripts / p.counted;
    }
  } finally {
    for (const arm of arms.values()) await arm.close().catch(() => {});
  }
  const figures = againstFloor(
    specs.map((s) => {
      const a = acc.get(s)!;
      return { floor: s.floor, samples: a.samples, ops: a.samples.length, ms: a.ms };
    }),
  );
  return specs.map(
    (s, i): DecisionFigures => ({
      store,
      scenario: scenario.id,
      arm: s.id,
      label: s.label,
      ...figures[i]!,
      ...(store === 'redis' && {
        commandsPerDecision: acc.get(s)!.commands,
        scriptsPerDecision: acc.get(s)!.scripts,
      }),
    }),
  );
}

/**
 * `callers` callers in one process share one key at `perSecond`, each asking again as soon as
 * its start comes, with `wait`: each reserves the next slot and sleeps until it. A start's
 * lateness is read on the server's clock: TIME right after the wait resolved, less the slot's `at`.
 */
async function waiting(ctx: Context): Promise<WaitFigures> {
  const p = sizes[ctx.profile.name];
  const backend = redisBackend({ url: ctx.redis.url });
  const clock = new Redis(ctx.redis.url);
  const rate = { limit: p.perSecond, per: 1000, wait: 1000 };
  const delays: number[] = [];
  const upper: number[] = [];
  const lower: number[] = [];
  try {
    await rateLimit(backend, 'bench:rate:warm-up', rate);
    await clock.time();
    const end = now() + p.waitMs;
    const caller = async () => {
      const watched = watchedDecisions(backend);
      while (now() < end) {
        const r = await rateLimit(watched.backend, 'bench:rate:wait', rate);
        const sent = now();
        const [s, us] = await clock.time();
        const trip = now() - sent;
        const d = watched.last();
        if (!r.allowed || !d?.allowed) continue;
        const late = Number(s) * 1000 + Number(us) / 1000 - d.at;
        delays.push(d.delay);
        upper.push(late);
        lower.push(late - trip);
      }
    };
    await Promise.all(Array.from({ length: p.callers }, caller));
  } finally {
    await backend.close();
    await clock.quit();
  }
  return {
    callers: p.callers,
    perSecond: p.perSecond,
    n: upper.length,
    delay: summarize(delays),
    lateUpper: summarize(upper),
    lateLower: summarize(lower),
  };
}

export async function rate(ctx: Context): Promise<SuiteResult> {
  const p = sizes[ctx.profile.name];
  const stores = [
    { store: 'redis' as const, specs: rateArms(ctx.redis.url) },
    { store: 'postgres' as const, specs: postgresRateArms(ctx.postgresUrl) },
  ];
  const all: DecisionFigures[] = [];
  for (const { store, specs } of stores) {
    for (const scenario of scenarios) {
      all.push(...(await decisions(ctx, store, specs, scenario)));
      ctx.log(`  ${store}: ${scenario.id}`);
    }
  }
  const wait = await waiting(ctx);
  ctx.log('  redis: waiting callers');
  const data: RateData = { decisions: all, wait };
  const granted = all.find((f) => f.store === 'redis' && f.scenario === 'granted' && f.arm === 'oncelock');
  const notes = [
    `Issue 18's targets: a decision p50 at most 1.1x of rate-limiter-flexible's (measured: ${times(granted?.p50VsFloor ?? Number.NaN)} when granted, ` +
      `${times(all.find((f) => f.store === 'redis' && f.scenario === 'refused' && f.arm === 'oncelock')?.p50VsFloor ?? Number.NaN)} when refused); ` +
      `one script per decision (measured: ${count(granted?.scriptsPerDecision ?? Number.NaN)}); a waiting caller starts within 2 ms p50 of its slot ` +
      `(measured: between ${ms(wait.lateLower.p50)} and ${ms(wait.lateUpper.p50)}).`,
  ];
  return {
    id: 'rate',
    title: 'Rate limits: one decision, and a waiting caller',
    about:
      "oncelock's `rateLimit(backend, key, { limit, per })` on `redisBackend` (GCRA in one script on the server's clock) " +
      "against rate-limiter-flexible's `RateLimiterRedis.consume` (a fixed window in one script), at their defaults, on the " +
      `private \`redis-server\`: one caller, decisions one after another, ${p.rounds} rounds of ${p.ms} ms per arm and ` +
      'scenario, interleaved. "Breakdown" rows measure parts of oncelock alone (the backend\'s `rateLimit` without ' +
      "core's `rateLimit()` around it; `rate-1.lua` through ioredis alone), to locate a gap to the reference. " +
      'Commands and scripts per decision come from `INFO commandstats` over ' +
      `${p.counted} decisions. Waiting: ${p.callers} callers in one process share one key at ${p.perSecond} starts a ` +
      `second for ${p.waitMs} ms, each asking again as soon as it starts, with \`wait\`: each reserves the next slot and ` +
      "sleeps until it. A start's lateness is measured on the server's clock: `TIME` read right after the wait resolved, " +
      "less the slot's `at` from the decision (an upper bound); less also that `TIME`'s round trip, a lower bound. " +
      'PostgreSQL: `rateLimit` on `postgresBackend` in both modes (one call of the `rate_limit` function, on the ' +
      "database's clock, committed without waiting for the WAL flush) against rate-limiter-flexible's " +
      "`RateLimiterPostgres.consume` (one upsert per call, refusals too, committed with the server's default " +
      "`synchronous_commit`, so a WAL flush each), the same way; the breakdown row sends the backend's statement alone.",
    tables: tables(data),
    charts: [],
    notes,
    data,
  };
}

function tables(d: RateData): Table[] {
  const byScenario = (['redis', 'postgres'] as const).flatMap((store) =>
    scenarios.map((scenario) => {
      const rows = d.decisions.filter((f) => f.store === store && f.scenario === scenario.id);
      const counted = store === 'redis';
      return {
        caption: `${store}: one rate decision, ${scenario.label}`,
        head: [...VS_REFERENCE, ...(counted ? ['commands/decision', 'scripts/decision'] : [])],
        rows: rows.map((f) => [
          ...vsReferenceRow(f),
          ...(counted
            ? [count(f.commandsPerDecision ?? Number.NaN), count(f.scriptsPerDecision ?? Number.NaN)]
            : []),
        ]),
      };
    }),
  );
  const w = d.wait;
  const waitTable: Table = {
    caption: `redis: ${w.callers} waiting callers on one key at ${w.perSecond} starts a second`,
    head: ['starts', 'wait asked p50', 'late p50', 'late p99', 'late p50, less the TIME round trip'],
    rows: [[String(w.n), ms(w.delay.p50), ms(w.lateUpper.p50), ms(w.lateUpper.p99), ms(w.lateLower.p50)]],
  };
  return [...byScenario, waitTable];
}
