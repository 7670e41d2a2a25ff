import { InvalidArgumentError } from '@oncelock/core';
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../src/options.js';
import { MemoryQueue } from '../src/queue/memory-queue.js';
import { memoryTable } from '../src/table/memory-table.js';
import { isUniqueViolation } from '../src/table/table.js';
import { generateWorkload } from '../src/workload.js';

describe('in-process table', () => {
  it('enforces the primary key on reprs, all or nothing, like Postgres', async () => {
    const table = memoryTable(0);
    const { backlog } = generateWorkload({ backlog: 5, arrivals: 0, arrivalMs: 0, seed: 1 });
    await table.append(backlog);
    await table.fill([{ id: 1, repr: 'a' }]);
    const failed = await table
      .fill([
        { id: 2, repr: 'b' },
        { id: 1, repr: 'again' },
      ])
      .catch((e: unknown) => e);
    expect(isUniqueViolation(failed)).toBe(true);
    // Row 2 was not written: the statement failed as a whole.
    expect((await table.missing(10)).map((r) => r.id)).toEqual([2, 3, 4, 5]);
    expect(await table.counts()).toEqual({ rows: 5, filled: 1 });
  });

  it('lets two overlapping jobs select the same rows, as two transactions would', async () => {
    const table = memoryTable(1);
    await table.append(generateWorkload({ backlog: 4, arrivals: 0, arrivalMs: 0, seed: 1 }).backlog);
    const [a, b] = await Promise.all([table.missing(3), table.missing(3)]);
    expect(a.map((r) => r.id)).toEqual(b.map((r) => r.id));
    await table.fill(a.map((r) => ({ id: r.id, repr: 'x' })));
    await expect(table.fill(b.map((r) => ({ id: r.id, repr: 'y' })))).rejects.toMatchObject({
      code: '23505',
    });
  });
});

describe('in-process queue', () => {
  it('runs jobs on several workers at once and counts delayed jobs as queued', async () => {
    let running = 0;
    let most = 0;
    const lengths: number[] = [];
    const queue = new MemoryQueue(
      3,
      async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return undefined;
      },
      (n) => lengths.push(n),
    );
    for (let i = 0; i < 6; i++) queue.add(`j${i}`);
    queue.add('late', 10_000);
    expect(queue.length).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 120));
    expect(most).toBe(3);
    expect(queue.length).toBe(1); // the delayed one
    queue.promote('late');
    await new Promise((r) => setTimeout(r, 40));
    expect(queue.length).toBe(0);
    expect(Math.max(...lengths)).toBeGreaterThanOrEqual(4);
    await queue.close();
  });
});

describe('options', () => {
  it('parses the real-mode flags', () => {
    const o = parseOptions(['--store', 'postgres', '--queue', 'bullmq', '--workers', '3'], '/tmp');
    expect(o).toMatchObject({ store: 'postgres', queue: 'bullmq', workers: 3 });
  });

  it('runs the three arms by default, and any of them by name', () => {
    expect(parseOptions([], '/tmp').arms).toEqual(['naive', 'oncelock', 'loop']);
    expect(parseOptions(['--arms', 'loop,naive'], '/tmp').arms).toEqual(['loop', 'naive']);
  });

  it.each([
    [['--workers', '0']],
    [['--workers', '2.5']],
    [['--batch', '']],
    [['--store', 'mysql']],
    [['--queue', 'bullmq']],
    [['--arms', 'naive,naive']],
    [['--arms', 'singleton']],
    [['--nope']],
  ])('refuses %j with a typed error', (argv) => {
    expect(() => parseOptions(argv, '/tmp')).toThrow(InvalidArgumentError);
  });
});
