import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotList } from '../src/slot-list.js';

describe('SlotList', () => {
  it('holds exactly what a Set would, through any sequence of adds and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(7))), (steps) => {
        const items = Array.from({ length: 8 }, () => ({ heartbeatSlot: -1 }));
        const list = new SlotList<{ heartbeatSlot: number }>();
        const set = new Set<{ heartbeatSlot: number }>();
        for (const [add, i] of steps) {
          if (add) {
            list.add(items[i]!);
            set.add(items[i]!);
          } else {
            list.delete(items[i]!);
            set.delete(items[i]!);
          }
          expect(list.size).toBe(set.size);
          expect(new Set(list.snapshot())).toEqual(set);
          expect(new Set([...list])).toEqual(set);
          for (const item of items) expect(list.has(item)).toBe(set.has(item));
        }
      }),
    );
  });

  it('keeps a snapshot whole while the items in it are deleted', () => {
    const items = Array.from({ length: 5 }, () => ({ heartbeatSlot: -1 }));
    const list = new SlotList<{ heartbeatSlot: number }>();
    for (const item of items) list.add(item);
    const seen = [];
    for (const item of list.snapshot()) {
      list.delete(item);
      seen.push(item);
    }
    expect(seen).toEqual(items);
    expect(list.size).toBe(0);
  });
});
