import { BackendUnavailableError, InvalidArgumentError } from '@oncelock/core';
import { describe, expect, it } from 'vitest';
import type { StoreArgs } from '../src/args.js';
import { explain } from '../src/errors.js';
import { CliError, EXIT } from '../src/exit-codes.js';
import { openStore, redact } from '../src/store.js';

const args = (url: string, more: Partial<StoreArgs> = {}): StoreArgs => ({
  url,
  timeout: 1000,
  namespace: undefined,
  mode: undefined,
  schema: undefined,
  ...more,
});

async function refusal(a: StoreArgs): Promise<CliError> {
  const error = await openStore(a).then(
    (store) => store.close().then(() => expect.fail(`${a.url} was accepted`)),
    (e: unknown) => e,
  );
  if (error instanceof CliError) return error;
  throw error;
}

describe('openStore', () => {
  it('refuses a bad URL, a scheme it cannot reach, and options of the other store', async () => {
    expect((await refusal(args('127.0.0.1:6379'))).message).toMatch(/^"127.0.0.1:6379" is not a URL/);
    expect((await refusal(args('not a url'))).message).toBe(
      '"not a url" is not a URL; expected redis://..., rediss://..., postgres://..., postgresql://...',
    );
    expect((await refusal(args('mysql://db/x'))).message).toMatch(/unsupported URL scheme "mysql:"/);
    expect((await refusal(args('redis://h', { mode: 'table' }))).message).toBe(
      '--mode applies to postgres:// URLs only',
    );
    expect((await refusal(args('postgres://h/db', { namespace: 'x:' }))).message).toBe(
      '--namespace applies to redis:// URLs only',
    );
    expect((await refusal(args('postgres://h/db', { mode: 'locks' }))).message).toBe(
      '--mode must be table or advisory, got "locks"',
    );
    for (const a of [args('bad'), args('redis://h', { schema: 's' })])
      expect((await refusal(a)).code).toBe(EXIT.usage);
  });

  it('hides a password when it shows a URL', () => {
    expect(redact('redis://:s3cret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redact('postgres://app:pw@db/orders')).toBe('postgres://app:***@db/orders');
    expect(redact('redis://cache')).toBe('redis://cache');
  });
});

describe('explain', () => {
  it('maps each kind of failure to its exit code, in one line', () => {
    expect(explain(new CliError(EXIT.notHeld, 'free'))).toEqual({ code: EXIT.notHeld, message: 'free' });
    const down = new BackendUnavailableError('list failed: cannot reach Redis', {
      pkg: '@oncelock/redis',
      backend: 'redis',
      cause: new Error('connect ECONNREFUSED 127.0.0.1:1'),
    });
    expect(explain(down, 'redis://h')).toEqual({
      code: EXIT.unreachable,
      message:
        'cannot use redis://h: [@oncelock/redis redis] list failed: cannot reach Redis: connect ECONNREFUSED 127.0.0.1:1',
    });
    expect(explain(new InvalidArgumentError('prefix is bad')).code).toBe(EXIT.usage);
    const noSchema = new BackendUnavailableError('list failed', {
      cause: Object.assign(new Error('x'), { code: '3F000' }),
    });
    expect(explain(noSchema, 'postgres://db').code).toBe(EXIT.notHeld);
    expect(explain(new TypeError('x is undefined'))).toEqual({
      code: EXIT.failed,
      message: 'unexpected error (please report it): x is undefined',
    });
  });
});
