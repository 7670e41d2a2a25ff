import { describe, expect, it } from 'vitest';
import type { NamedStats } from '../src/commands/queues.js';
import { duration, holderDetails, holderJson, holdersTable } from '../src/format.js';
import { queuesTable } from '../src/format-queues.js';

const now = Date.UTC(2026, 0, 2, 3, 4, 5);

describe('duration', () => {
  it('reads as people say it, at each scale', () => {
    const cases: Array<[number, string]> = [
      [0, '0ms'],
      [850, '850ms'],
      [1000, '1.0s'],
      [12_549, '12.5s'],
      [59_999, '59.9s'],
      [60_000, '1m 00s'],
      [245_000, '4m 05s'],
      [3_600_000, '1h 00m'],
      [11_220_000, '3h 07m'],
      [187_200_000, '2d 04h'],
    ];
    for (const [ms, text] of cases) expect(duration(ms), String(ms)).toBe(text);
  });
});

describe('holdersTable', () => {
  const holders = [
    { key: 'scan:2', owner: 'job-2', fence: 12, since: now - 125_000, ttlRemaining: 4_500 },
    { key: 'scan:1', owner: 'job-1', since: now - 500 },
  ];

  it('one row per holder, sorted by key, with a dash where the store knows nothing', () => {
    const lines = holdersTable(holders, now).split('\n');
    expect(lines[1]).toMatch(/│ key\s+│ owner\s+│ fence │\s+since │ ttl left │/);
    expect(lines[3]).toMatch(/│ scan:1 │ job-1 │\s+- │\s+500ms ago │\s+- │/);
    expect(lines[4]).toMatch(/│ scan:2 │ job-2 │\s+12 │ 2m 05s ago │\s+4.5s │/);
    expect(lines).toHaveLength(6);
  });

  it('has no colour codes, so a pipe or a file gets plain text', () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for the escape character itself
    expect(holdersTable(holders, now)).not.toMatch(/\u001b/);
  });

  it('details and JSON carry the same facts', () => {
    const [h] = holders;
    if (!h) throw new Error('no holder');
    expect(holderDetails(h.key, h, now)).toMatch(/│ since\s+│ 2026-01-02T03:02:00.000Z \(2m 05s ago\) │/);
    expect(holderJson(h.key, h)).toEqual({
      key: 'scan:2',
      owner: 'job-2',
      fence: 12,
      since: now - 125_000,
      sinceIso: '2026-01-02T03:02:00.000Z',
      ttlRemaining: 4_500,
      limit: 1,
    });
    expect(holderJson('k', { owner: 'o' })).toEqual({
      key: 'k',
      owner: 'o',
      fence: null,
      since: null,
      sinceIso: null,
      ttlRemaining: null,
      limit: 1,
    });
  });

  it('shows the limit of a key held by permits, and every holder in the details', () => {
    const permits = [
      { key: 'stripe:acme', owner: 'job-7', fence: 40, limit: 5 },
      { key: 'stripe:acme', owner: 'job-9', fence: 41, limit: 5 },
    ];
    const lines = holdersTable(permits, now).split('\n');
    expect(lines[1]).toMatch(/│ ttl left │ limit │/);
    expect(lines[3]).toMatch(/│ stripe:acme │ job-7 │\s+40 │.*│\s+5 │/);
    expect(lines[4]).toMatch(/│ stripe:acme │ job-9 │\s+41 │.*│\s+5 │/);
    const details = holderDetails('stripe:acme', { ...permits[0]!, holders: permits }, now);
    expect(details).toMatch(/│ limit\s+│ 5\s+│/);
    expect(details).toMatch(/│ also held by │ job-9 \(fence 41\)\s+│/);
    expect(holderJson('stripe:acme', permits[0]!).limit).toBe(5);
  });
});

describe('queuesTable', () => {
  it('a row per queue: counts in state order, the oldest waiting age, and a paused mark', () => {
    const counts = {
      waiting: 3,
      active: 1,
      delayed: 0,
      prioritized: 2,
      'waiting-children': 0,
      completed: 9,
      failed: 4,
      paused: 0,
    };
    const stats: NamedStats[] = [
      { queue: 'mail', counts, isPaused: false, oldestWaitingAge: 61_000, oldestWaitingId: '7' },
      { queue: 'pdf', counts, isPaused: true, oldestWaitingAge: null, oldestWaitingId: null },
    ];
    const lines = queuesTable(stats).split('\n');
    expect(lines[1]).toMatch(
      /queue .* waiting .* active .* delayed .* prioritized .* waiting-children .* completed .* failed .* paused .* oldest waiting/,
    );
    expect(lines[3]).toMatch(/│ mail\s+│\s+3 │\s+1 │\s+0 │\s+2 │\s+0 │\s+9 │\s+4 │\s+0 │\s+1m 01s │/);
    expect(lines[4]).toMatch(/│ pdf \(paused\)\s+│.*│\s+- │/);
  });
});
