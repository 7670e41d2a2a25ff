import { InvalidArgumentError, lease, memoryBackend, once } from '@oncelock/core';
import { count, duration, exactlyOne, readOptions, ttl, url, wait } from '@oncelock/core/backend';
import { describe, expect, it } from 'vitest';

const at = { pkg: '@oncelock/example', call: 'exampleBackend()' };

describe('option checkers', () => {
  it('refuse an unknown option with the closest known name, from JavaScript too', async () => {
    const backend = memoryBackend();
    // A typo TypeScript would catch, made as JavaScript would make it.
    const options = { ttl: 1000, wiat: 5000 } as unknown as { ttl: number };
    await expect(lease(backend, 'k', options)).rejects.toThrow(
      /\[@oncelock\/core\] lease\(\): unknown option "wiat": did you mean "wait"\?/,
    );
    expect(() => once(backend, { key: 'k', mdoe: 'untilDone' } as never)).toThrow(/did you mean "mode"/);
    // Nothing was taken: the refusal came before any round trip.
    expect(await backend.inspect('k')).toBeNull();
  });

  it('list the known names when nothing is close', () => {
    expect(() => readOptions({ zzzzzz: 1 }, { timeout: duration() }, at)).toThrow(
      /unknown option "zzzzzz": it takes "timeout"/,
    );
  });

  it('name the package, the call and the real kind of the value', () => {
    const spec = {
      timeout: duration({ min: 10, max: 600_000 }).default(2000),
      ttl: ttl(),
      tries: count({ max: 5 }),
    };
    expect(readOptions({}, spec, at)).toEqual({ timeout: 2000, ttl: undefined, tries: undefined });
    const bad = (value: object) => {
      try {
        readOptions(value, spec, at);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ timeout: 5 })).toBe(
      '[@oncelock/example] exampleBackend(): timeout must be a duration: a whole number of milliseconds from 10 to 600000, got 5',
    );
    expect(bad({ ttl: 0 })).toMatch(/ttl must be a TTL: a whole number of milliseconds from 10 to/);
    expect(bad({ tries: 1.5 })).toMatch(/tries must be a whole number from 0 to 5, got 1.5/);
  });

  it('read wait: false as 0, and refuse a missing required option', () => {
    expect(readOptions({ wait: false }, { wait: wait().default(0) }, at).wait).toBe(0);
    expect(() => readOptions({}, { ttl: ttl().required() }, at)).toThrow(/ttl is required: a TTL/);
    expect(() => readOptions(undefined, { ttl: ttl() }, at, true)).toThrow(
      /needs an options object, got undefined/,
    );
    expect(() => readOptions([], { ttl: ttl() }, at)).toThrow(/needs an options object, got an array/);
  });

  it('check URLs by scheme and one-of groups by presence', () => {
    const spec = { url: url(['redis:', 'rediss:']) };
    expect(readOptions({ url: 'rediss://h:1' }, spec, at).url).toBe('rediss://h:1');
    expect(() => readOptions({ url: 'http://h' }, spec, at)).toThrow(
      /url must be a redis:\/\/ or rediss:\/\/ URL/,
    );
    expect(() => exactlyOne({}, ['url', 'client', 'cluster'], at)).toThrow(
      /needs one of url, client or cluster/,
    );
    expect(() => exactlyOne({ url: 'x', client: {} }, ['url', 'client'], at)).toThrow(/got url and client/);
    expect(exactlyOne({ client: {} }, ['url', 'client'], at)).toBe('client');
  });
});
