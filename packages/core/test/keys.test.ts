import { ARGS_KEY_VERSION, argsKey, InvalidArgumentError, joinKey } from '@oncelock/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const shuffleKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(shuffleKeys);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).reverse();
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v)]));
  }
  return value;
};

describe('argsKey', () => {
  it('is equal for equal arguments whatever the order of object keys', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), (args) => {
        expect(argsKey('job', args)).toBe(argsKey('job', shuffleKeys(args) as unknown[]));
      }),
    );
  });

  it('differs for different arguments', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        fc.pre(
          JSON.stringify(a) !== JSON.stringify(b) && JSON.stringify(shuffleKeys(a)) !== JSON.stringify(b),
        );
        fc.pre(!(Object.is(a, -0) || Object.is(b, -0)));
        expect(argsKey('job', [a])).not.toBe(argsKey('job', [b]));
      }),
    );
  });

  it('is versioned and pinned: the same input gives the same key in every release', () => {
    expect(ARGS_KEY_VERSION).toBe('v1');
    expect(argsKey('scan', [{ b: 2, a: 1 }, 'x', 3n, new Date(0)])).toBe(
      argsKey('scan', [{ a: 1, b: 2 }, 'x', 3n, new Date(0)]),
    );
    expect(argsKey('scan', [1])).toMatch(/^scan:v1:[A-Za-z0-9_-]{22}$/);
    expect(argsKey('scan', [1, 'a'])).toBe('scan:v1:IBCUU4ji3pj1ZRBRR4kSqk');
  });

  it('refuses what has no stable encoding', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [
      () => 1,
      Symbol('s'),
      Number.NaN,
      Number.POSITIVE_INFINITY,
      cyclic,
      new Map(),
      new Date(Number.NaN),
    ]) {
      expect(() => argsKey('job', [bad])).toThrow(InvalidArgumentError);
    }
    expect(() => argsKey('', [])).toThrow(InvalidArgumentError);
  });

  it('joinKey makes readable keys and refuses empty parts', () => {
    expect(joinKey('scan', 3)).toBe('scan:3');
    expect(() => joinKey('scan', '')).toThrow(InvalidArgumentError);
    expect(() => joinKey('scan', Number.NaN)).toThrow(InvalidArgumentError);
  });
});
