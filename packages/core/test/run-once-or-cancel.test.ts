import {
  InvalidArgumentError,
  type LockBackend,
  memoryBackend,
  onEvent,
  runOnceOrCancel,
} from '@oncelock/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let backend: LockBackend;
beforeEach(() => {
  backend = memoryBackend();
});
afterEach(() => backend.close());

describe('runOnceOrCancel', () => {
  it('keeps this and the arguments, and keys by a function of them', async () => {
    const seen: number[] = [];
    const obj = {
      base: 10,
      scan: runOnceOrCancel(
        async function (this: { base: number }, shard: number) {
          seen.push(shard);
          return this.base + shard;
        },
        { backend, key: (shard) => `scan:${shard}` },
      ),
    };
    expect(await obj.scan(3)).toEqual({ status: 'ran', value: 13 });
    expect(seen).toEqual([3]);
  });

  it('different keys run side by side', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const work = runOnceOrCancel(
      async (shard: number) => {
        await gate;
        return shard;
      },
      {
        backend,
        key: (s) => `s:${s}`,
      },
    );
    const a = work(1);
    const b = work(2);
    const dup = await work(1);
    open();
    expect(await a).toEqual({ status: 'ran', value: 1 });
    expect(await b).toEqual({ status: 'ran', value: 2 });
    expect(dup).toEqual({
      status: 'cancelled',
      reason: 'locked',
      holder: expect.objectContaining({ owner: expect.any(String) }),
    });
  });

  it('refuses a missing function or key', () => {
    expect(() => runOnceOrCancel(undefined as never, { backend, key: 'k' })).toThrow(InvalidArgumentError);
    expect(() => runOnceOrCancel(async () => 1, { backend, key: 7 as never })).toThrow(InvalidArgumentError);
    expect(() => runOnceOrCancel(async () => 1, { backend: null as never, key: 'k' })).toThrow(
      InvalidArgumentError,
    );
  });

  it('works as a method decorator: an overlapping call resolves undefined and emits skipped', async () => {
    const skipped: string[] = [];
    const stop = onEvent('skipped', (e) => skipped.push(e.key));
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    class Scanner {
      runs = 0;
      constructor(readonly store: LockBackend) {}

      @runOnceOrCancel({
        backend(this: Scanner) {
          return this.store;
        },
        key: (shard: number) => `scan:${shard}`,
      })
      async scan(shard: number): Promise<number | undefined> {
        this.runs++;
        await gate;
        return shard * 2;
      }
    }
    const s = new Scanner(backend);
    const first = s.scan(4);
    expect(await s.scan(4)).toBeUndefined();
    open();
    expect(await first).toBe(8);
    expect(s.runs).toBe(1);
    expect(skipped).toEqual(['scan:4']);
    stop();
  });
});

describe('currentLease', () => {
  it('gives a wrapped function its lease, so it can watch the signal and send the fence', async () => {
    const { currentLease } = await import('@oncelock/core');
    expect(currentLease()).toBeUndefined();
    const sync = runOnceOrCancel(
      async () => {
        const l = currentLease();
        return { held: l?.held, fence: l?.fence, aborted: l?.signal.aborted };
      },
      { backend, key: 'sync' },
    );
    const r = await sync();
    expect(r).toEqual({ status: 'ran', value: { held: true, fence: expect.any(Number), aborted: false } });
    expect(currentLease()).toBeUndefined();
  });
});
