import { count, ms, times } from '../format.js';
import type { HandoffFigures } from '../suites/handoff.js';
import type { ArmFigures } from '../suites/latency.js';
import type { LimitsData } from '../suites/limits.js';
import type { LoopsData } from '../suites/loops.js';
import { loopsTargets } from '../suites/loops-targets.js';
import type { MetricsFigures } from '../suites/metrics.js';
import type { ScaleFigures } from '../suites/scale.js';
import type { SuiteResult } from './types.js';

/** One performance claim and what this run measured against it. */
export interface TargetResult {
  readonly target: string;
  readonly measured: string;
  /** null: not measured in this run (a suite or an arm did not run). */
  readonly met: boolean | null;
}

const unmeasured = (target: string): TargetResult => ({
  target,
  measured: 'not measured in this run',
  met: null,
});

function dataOf<T>(suites: readonly SuiteResult[], id: string): T | undefined {
  return suites.find((s) => s.id === id)?.data as T | undefined;
}

/**
 * Within `limit` of the floor: judged on the worse of the p50 ratio and the mean-time ratio, so
 * that neither a good median over a slow tail nor the reverse passes for fast. `part` names a
 * breakdown arm that oncelock cannot do without, whose own ratio is printed beside it.
 */
function nearFloor(
  target: string,
  rows: readonly ArmFigures[] | undefined,
  limit: number,
  part: { arm: string; what: string },
): TargetResult {
  const r = rows?.find((x) => x.arm === 'oncelock');
  if (!r) return unmeasured(target);
  const worst = Math.max(r.p50VsFloor, r.opsVsFloor);
  const p = rows?.find((x) => x.arm === part.arm);
  return {
    target,
    measured:
      `p50 ${times(r.p50VsFloor)}, time per operation ${times(r.opsVsFloor)} of the floor (${ms(r.p50)} p50)` +
      (p ? `; ${part.what} alone: p50 ${times(p.p50VsFloor)} of the floor` : ''),
    met: worst <= limit,
  };
}

function handoffTargets(rows: readonly HandoffFigures[] | undefined): TargetResult[] {
  const sub1 = 'Redis handoff p50 under 1 ms on loopback (8 processes on one key)';
  const x50 = "Redis handoff more than 50x faster than redlock's defaults (p50)";
  const load =
    'At least 10x fewer Redis commands per waiter-second than redis-semaphore, at an equal or better handoff';
  if (!rows) return [sub1, x50, load].map(unmeasured);
  const out: TargetResult[] = [];
  // The targets speak of 8 waiting processes; other shapes are there to explain the figures.
  const eight = rows.filter((f) => f.store === 'redis' && f.processes === 8);
  for (const hold of [...new Set(eight.map((f) => f.holdMs))]) {
    const at = (arm: string) => eight.find((f) => f.holdMs === hold && f.arm === arm);
    const once = at('oncelock');
    const redlock = at('redlock');
    const sem = at('redis-semaphore');
    const when = ` — hold ${hold} ms`;
    if (!once) {
      out.push(...[sub1, x50, load].map((t) => unmeasured(t + when)));
      continue;
    }
    const floor = at('wake-one');
    out.push({
      target: sub1 + when,
      measured:
        `p50 ${ms(once.p50)}, p99 ${ms(once.p99)}` +
        (floor
          ? `; the raw wake-one floor: p50 ${ms(floor.p50)} (oncelock ${times(once.p50 / floor.p50)} of it)`
          : ''),
      met: once.p50 < 1,
    });
    out.push(
      redlock
        ? {
            target: x50 + when,
            measured:
              `redlock p50 ${ms(redlock.p50)} / oncelock ${ms(once.p50)} = ${times(redlock.p50 / once.p50)}` +
              (floor
                ? `; the raw wake-one floor is ${times(redlock.p50 / floor.p50)} faster than redlock`
                : ''),
            met: redlock.p50 / once.p50 > 50,
          }
        : unmeasured(x50 + when),
    );
    if (sem?.commandsPerWaiterSecond && once.commandsPerWaiterSecond) {
      const fewer = sem.commandsPerWaiterSecond / once.commandsPerWaiterSecond;
      out.push({
        target: load + when,
        measured:
          `${count(once.commandsPerWaiterSecond)} vs ${count(sem.commandsPerWaiterSecond)} commands per waiter-second ` +
          `(${times(fewer)} fewer); handoff p50 ${ms(once.p50)} vs ${ms(sem.p50)}` +
          (floor?.commandsPerWaiterSecond
            ? `; the raw wake-one floor: ${count(floor.commandsPerWaiterSecond)} (${times(sem.commandsPerWaiterSecond / floor.commandsPerWaiterSecond)} fewer)`
            : ''),
        met: fewer >= 10 && once.p50 <= sem.p50,
      });
    } else out.push(unmeasured(load + when));
  }
  return out;
}

/**
 * Issue 22: a Redis lease handoff at most 1.15x of the raw wake-one floor at p50, with at most
 * 1.5x of its commands per grant, per hold (8 processes on one key).
 */
function redisFloorTargets(rows: readonly HandoffFigures[] | undefined): TargetResult[] {
  const target =
    'Redis handoff p50 at most 1.15x of the raw wake-one floor, commands per grant at most 1.5x of its (8 processes)';
  const eight = rows?.filter((f) => f.store === 'redis' && f.processes === 8) ?? [];
  const holds = [...new Set(eight.map((f) => f.holdMs))];
  if (holds.length === 0) return [unmeasured(target)];
  return holds.map((hold) => {
    const once = eight.find((f) => f.holdMs === hold && f.arm === 'oncelock');
    const floor = eight.find((f) => f.holdMs === hold && f.arm === 'wake-one');
    const name = `${target} — hold ${hold} ms`;
    if (!once || !floor || !once.commandsPerGrant || !floor.commandsPerGrant) return unmeasured(name);
    const p50 = once.p50 / floor.p50;
    const commands = once.commandsPerGrant / floor.commandsPerGrant;
    return {
      target: name,
      measured:
        `p50 ${ms(once.p50)} against the raw wake-one floor's ${ms(floor.p50)} = ${times(p50)}; ` +
        `${count(once.commandsPerGrant)} commands per grant against its ${count(floor.commandsPerGrant)} = ${times(commands)}`,
      met: p50 <= 1.15 && commands <= 1.5,
    };
  });
}

/** Issue 22: the memory backend's uncontended lease near async-mutex. */
function memoryFloorTarget(memory: ArmFigures | undefined): TargetResult {
  const target =
    'The memory backend p50 at most 1.5x, time per operation at most 1.2x of async-mutex (uncontended)';
  if (!memory) return unmeasured(target);
  return {
    target,
    measured: `p50 ${times(memory.p50VsFloor)}, time per operation ${times(memory.opsVsFloor)} of async-mutex`,
    met: memory.p50VsFloor <= 1.5 && memory.opsVsFloor <= 1.2,
  };
}

function scaleTarget(rows: readonly ScaleFigures[] | undefined): TargetResult {
  const r = rows?.find((x) => x.arm === 'oncelock');
  const target = '10,000 held leases extended in at most 2 round trips per heartbeat tick';
  if (!r) return unmeasured(target);
  const timer = rows?.find((x) => x.arm === 'timer-per-lock');
  return {
    target,
    measured:
      `${r.maxRoundTripsPerTick} round trip(s) per tick at most, for ${count(r.leases)} leases; ` +
      `${count(r.roundTripsPerSecond)} round trips/s against ${count(timer?.roundTripsPerSecond ?? Number.NaN)} with a timer per lock`,
    // Only a run with 10,000 leases tests the claim; the quick profile holds fewer.
    met: r.leases >= 10_000 ? r.maxRoundTripsPerTick <= 2 : null,
  };
}

function metricsTarget(rows: readonly MetricsFigures[] | undefined): TargetResult {
  const target = 'prometheusMetrics() adds at most 5% at p50 to an uncontended memory lease';
  const r = rows?.find((x) => x.arm === 'prometheus');
  if (!r) return unmeasured(target);
  return {
    target,
    measured: `p50 ${times(r.p50Ratio)}, time per operation ${times(r.meanRatio)} of the lease without metrics (${ms(r.p50)} p50)`,
    met: r.p50Ratio <= 1.05,
  };
}

/** Issue 17's targets for permits (`lease` with `limit`). */
function limitsTargets(d: LimitsData | undefined): TargetResult[] {
  const acquire = "Redis permit acquire + release p50 at most 1.15x of redis-semaphore's Semaphore";
  const pg = 'PostgreSQL permit acquire + release within 1.2x of a plain lease on the same backend';
  const handoff = "Redis permit handoff p50 at most 0.5x of redis-semaphore's (8 processes, limit 2)";
  const load = "Redis commands per permit waiter-second at most a tenth of redis-semaphore's (hold 200 ms)";
  const out: TargetResult[] = [];
  const at = (store: string, arm: string) => d?.uncontended.find((f) => f.store === store && f.arm === arm);
  const near = (target: string, store: string, limit: number, refArm: string, ref: string): TargetResult => {
    const r = at(store, 'oncelock');
    const f = at(store, refArm);
    if (!r || !f) return unmeasured(target);
    return {
      target,
      measured: `p50 ${times(r.p50VsFloor)}, time per operation ${times(r.opsVsFloor)} of ${ref} (${ms(r.p50)} against ${ms(f.p50)})`,
      met: r.p50VsFloor <= limit,
    };
  };
  out.push(near(acquire, 'redis', 1.15, 'redis-semaphore', 'redis-semaphore'));
  out.push(near(pg, 'postgres', 1.2, 'lease', 'the plain lease'));
  for (const hold of [...new Set(d?.handoff.map((f) => f.holdMs) ?? [])]) {
    const once = d?.handoff.find((f) => f.store === 'redis' && f.holdMs === hold && f.arm === 'oncelock');
    const sem = d?.handoff.find(
      (f) => f.store === 'redis' && f.holdMs === hold && f.arm === 'redis-semaphore',
    );
    if (!sem) continue; // a PostgreSQL hold only
    const when = ` — hold ${hold} ms`;
    if (!once || !sem) {
      out.push(unmeasured(handoff + when));
      continue;
    }
    out.push({
      target: handoff + when,
      measured: `p50 ${ms(once.p50)} against ${ms(sem.p50)} = ${times(once.p50 / sem.p50)}; p99 ${ms(once.p99)} against ${ms(sem.p99)}`,
      met: once.p50 / sem.p50 <= 0.5,
    });
    if (hold !== 200) continue;
    const a = once.commandsPerWaiterSecond ?? Number.NaN;
    const b = sem.commandsPerWaiterSecond ?? Number.NaN;
    out.push({
      target: load,
      measured:
        `${count(a)} against ${count(b)} commands per waiter-second = ${times(a / b)} (commands inside scripts counted); ` +
        `scripts sent: ${count(once.scriptsPerWaiterSecond ?? Number.NaN)} against ${count(sem.scriptsPerWaiterSecond ?? Number.NaN)} per waiter-second`,
      met: Number.isFinite(a / b) ? a / b <= 0.1 : null,
    });
  }
  if (!d?.handoff.some((f) => f.holdMs === 200)) out.push(unmeasured(load));
  if (!d) out.push(unmeasured(handoff));
  out.push(pgPermitHandoff(d));
  return out;
}

/** Issue 22: on PostgreSQL a permit's handoff at most twice a plain lease's, measured in the same run. */
function pgPermitHandoff(d: LimitsData | undefined): TargetResult {
  const target = 'PostgreSQL permit handoff p50 at most 2x of a plain lease handoff (8 processes, limit 2)';
  const permit = d?.handoff.find((f) => f.store === 'postgres' && f.arm === 'oncelock');
  const plain = d?.handoff.find((f) => f.store === 'postgres' && f.arm === 'lease');
  if (!permit || !plain) return unmeasured(target);
  return {
    target: `${target} — hold ${permit.holdMs} ms`,
    measured: `p50 ${ms(permit.p50)} against ${ms(plain.p50)} = ${times(permit.p50 / plain.p50)}; p99 ${ms(permit.p99)} against ${ms(plain.p99)}`,
    met: permit.p50 / plain.p50 <= 2,
  };
}

/** Issue 22: a PostgreSQL handoff at most 1.5x of `pg_advisory_lock` blocking in the server, per shape. */
function pgHandoffTargets(rows: readonly HandoffFigures[] | undefined): TargetResult[] {
  const target = (n: number) =>
    `PostgreSQL handoff p50 at most 1.5x of a blocking pg_advisory_lock (${n} processes on one key)`;
  const shapes = [
    ...new Set(rows?.filter((f) => f.store === 'postgres').map((f) => `${f.processes}|${f.holdMs}`)),
  ];
  if (shapes.length === 0) return [8, 2].map((n) => unmeasured(target(n)));
  return shapes.map((shape) => {
    const of = rows?.filter((f) => f.store === 'postgres' && `${f.processes}|${f.holdMs}` === shape) ?? [];
    const once = of.find((f) => f.arm === 'oncelock');
    const floor = of.find((f) => f.arm === 'raw-blocking');
    // What a handoff woken by NOTIFY costs at the least: the part of the gap a LISTEN design keeps.
    const listen = of.find((f) => f.arm === 'notify-wake-one');
    const [n, hold] = shape.split('|');
    const name = `${target(Number(n))} — hold ${hold} ms`;
    if (!once || !floor) return unmeasured(name);
    const byListen = listen
      ? `; a raw wake-one by NOTIFY: ${ms(listen.p50)} (oncelock at ${times(once.p50 / listen.p50)} of it)`
      : '';
    return {
      target: name,
      measured: `p50 ${ms(once.p50)} against ${ms(floor.p50)} = ${times(once.p50 / floor.p50)}; p99 ${ms(once.p99)} against ${ms(floor.p99)}${byListen}`,
      met: once.p50 / floor.p50 <= 1.5,
    };
  });
}

/** The targets of issues 9, 17, 19, 20 and 22, each with the figures of this run beside it. */
export function evaluateTargets(suites: readonly SuiteResult[]): TargetResult[] {
  const un = dataOf<Record<string, ArmFigures[]>>(suites, 'uncontended');
  const memory = un?.memory?.find((x) => x.arm === 'oncelock');
  const memoryTarget = 'The memory backend at least as fast as async-mutex (uncontended)';
  return [
    nearFloor('Redis acquire + release within 1.15x of the raw floor', un?.redis, 1.15, {
      arm: 'oncelock-scripts',
      what: "oncelock's Lua scripts",
    }),
    ...handoffTargets(dataOf<HandoffFigures[]>(suites, 'handoff')),
    ...redisFloorTargets(dataOf<HandoffFigures[]>(suites, 'handoff')),
    ...pgHandoffTargets(dataOf<HandoffFigures[]>(suites, 'handoff')),
    scaleTarget(dataOf<ScaleFigures[]>(suites, 'scale')),
    nearFloor('PostgreSQL acquire + release within 1.2x of its raw floor', un?.postgres, 1.2, {
      arm: 'row-async',
      what: 'a lease row with a TTL and a fence',
    }),
    memory
      ? {
          target: memoryTarget,
          measured: `p50 ${times(memory.p50VsFloor)}, time per operation ${times(memory.opsVsFloor)} of async-mutex (${ms(memory.p50)} against ${ms(memory.p50 / memory.p50VsFloor)})`,
          met: Math.max(memory.p50VsFloor, memory.opsVsFloor) <= 1,
        }
      : unmeasured(memoryTarget),
    memoryFloorTarget(memory),
    metricsTarget(dataOf<MetricsFigures[]>(suites, 'metrics')),
    ...limitsTargets(dataOf<LimitsData>(suites, 'limits')),
    ...loopsTargets(dataOf<LoopsData>(suites, 'loops')),
  ];
}
