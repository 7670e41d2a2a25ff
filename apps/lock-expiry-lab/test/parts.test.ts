import { InvalidArgumentError } from '@oncelock/core';
import type { HistoryEvent } from '@oncelock/testkit/history';
import { describe, expect, it } from 'vitest';
import { analyse } from '../src/analyse.js';
import { ciRuns, parseOptions } from '../src/options.js';
import type { RunOutput } from '../src/run.js';
import { ParentStore } from '../src/store/parent.js';
import { renderTimeline } from '../src/timeline.js';

const hold = (worker: string, fence: number | null, start: number, end: number): HistoryEvent => ({
  type: 'hold',
  worker,
  key: 'k',
  fence,
  start,
  end,
});
const write = (worker: string, fence: number | null, at: number, accepted: boolean): HistoryEvent => ({
  type: 'write',
  worker,
  key: 'k',
  fence,
  start: at,
  end: at + 1,
  accepted,
});

/** A frozen holder: w1 holds with fence 1, freezes at 100, w2 takes over at 600 and writes; w1 wakes at 1100 and writes. */
function frozen(fenced: boolean, staleAccepted: boolean): RunOutput {
  const f = (n: number) => (fenced ? n : null);
  return {
    backend: fenced ? 'redis' : 'keyv',
    scenario: 'freeze',
    fenced,
    ttl: 500,
    names: ['w1', 'w2'],
    t0: 0,
    t1: 2000,
    marks: [{ label: 'SIGSTOP..SIGCONT w1', start: 100, end: 1100, worker: 'w1' }],
    problems: [],
    events: [
      write('w1', f(1), 50, true),
      hold('w2', f(2), 600, 1400),
      write('w2', f(2), 700, true),
      write('w1', f(1), 1110, staleAccepted),
      hold('w1', f(1), 10, 1120),
    ],
  };
}

describe('analyse', () => {
  it('sees the stale write a fencing store refused, and the believed-held overlap', () => {
    const r = analyse(frozen(true, false));
    expect(r).toMatchObject({
      tenures: 2,
      writes: 3,
      accepted: 2,
      rejected: 1,
      holdOverlaps: 1,
      overlapMs: 520,
      staleWrites: 1,
      staleAccepted: 0,
      staleRejected: 1,
      freshRejected: 0,
      fenceRegressions: 0,
      takeoverMs: 500,
      clean: true,
    });
  });

  it('flags a fenced store that accepted a stale write out of order', () => {
    const r = analyse(frozen(true, true));
    expect(r.fenceRegressions).toBeGreaterThan(0);
    expect(r.clean).toBe(false);
  });

  it('reports the stale write an unfenced store took', () => {
    const r = analyse(frozen(false, true));
    expect(r).toMatchObject({ staleAccepted: 1, staleRejected: 0, clean: false, fenceRegressions: 0 });
  });

  it('draws a timeline with a row per worker, the fault and every write', () => {
    const run = frozen(true, false);
    const svg = renderTimeline(run, analyse(run));
    expect(svg).toContain('SIGSTOP..SIGCONT w1');
    expect(svg.match(/font-weight="bold">w\d</g)).toHaveLength(2);
    expect(svg.match(/write accepted|rejected \(stale fence\)/g)?.length).toBeGreaterThanOrEqual(3);
  });
});

describe('the store in the parent', () => {
  it('refuses a fence older than one it applied, and takes anything without fences', () => {
    const store = new ParentStore();
    expect(store.write('k', 5, 'a')).toBe(true);
    expect(store.write('k', 5, 'b')).toBe(true);
    expect(store.write('k', 4, 'stale')).toBe(false);
    expect(store.value('k')).toBe('b');
    const open = new ParentStore();
    expect(open.write('k', null, 'x')).toBe(true);
    expect(open.write('k', null, 'y')).toBe(true);
    expect(open.value('k')).toBe('y');
  });
});

describe('options', () => {
  it('has a CI configuration with a short TTL', () => {
    const o = parseOptions(['--ci'], '/tmp');
    expect(o).toMatchObject({ ci: true, ttl: 400, afterTtls: 3 });
    expect(ciRuns.length).toBeGreaterThan(0);
  });

  it.each([
    [['--ttl', '5']],
    [['--backends', 'mysql']],
    [['--scenarios', 'kill,kill']],
    [['--workers', '1']],
    [['--x']],
  ])('refuses %j with a typed error', (argv) => {
    expect(() => parseOptions(argv, '/tmp')).toThrow(InvalidArgumentError);
  });
});
