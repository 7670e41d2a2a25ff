import { describe, expect, it } from 'vitest';
import { parseInvocation } from '../src/args.js';
import { CliError, EXIT } from '../src/exit-codes.js';

/** The CliError `parseInvocation(argv)` throws; fails the test if it does not throw one. */
function refusal(argv: string[]): CliError {
  try {
    parseInvocation(argv);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  return expect.fail(`${argv.join(' ')} was accepted`);
}

const url = 'redis://127.0.0.1:6379';

describe('parseInvocation', () => {
  it('reads each command with its options and defaults', () => {
    expect(parseInvocation(['list', url, '--prefix', 'orders:', '--json'])).toEqual({
      command: 'list',
      store: { url, timeout: 5000, namespace: undefined, mode: undefined, schema: undefined },
      prefix: 'orders:',
      json: true,
    });
    expect(parseInvocation(['release', url, 'k', '--force', '-y'])).toMatchObject({
      command: 'release',
      key: 'k',
      force: true,
      yes: true,
      json: false,
    });
    expect(parseInvocation(['watch', url, '--interval', '250', '--timeout', '800'])).toMatchObject({
      command: 'watch',
      interval: 250,
      prefix: '',
      store: { timeout: 800 },
    });
    expect(parseInvocation(['queues', url, 'mail', 'pdf', '--bull-prefix', 'jobs'])).toEqual({
      command: 'queues',
      url,
      timeout: 5000,
      queues: ['mail', 'pdf'],
      bullPrefix: 'jobs',
      json: false,
    });
    expect(
      parseInvocation(['inspect', 'postgres://db/x', 'k', '--mode', 'table', '--schema', 's']),
    ).toMatchObject({
      store: { mode: 'table', schema: 's' },
    });
  });

  it('answers help and version however they are asked', () => {
    expect(parseInvocation([])).toEqual({ command: 'help', topic: undefined });
    expect(parseInvocation(['-h'])).toEqual({ command: 'help', topic: undefined });
    expect(parseInvocation(['help', 'watch'])).toEqual({ command: 'help', topic: 'watch' });
    expect(parseInvocation(['release', '--help'])).toEqual({ command: 'help', topic: 'release' });
    expect(parseInvocation(['--version'])).toEqual({ command: 'version' });
  });

  it('refuses what it cannot use, with exit code 2 and a message naming the problem', () => {
    const cases: Array<[string[], RegExp]> = [
      [['lsit', url], /unknown command "lsit"; the commands are list, inspect, release, watch, queues/],
      [['help', 'nope'], /unknown command "nope"/],
      [['list'], /list: missing <url>/],
      [['inspect', url], /inspect: missing <key>/],
      [['inspect', url, 'k', 'extra'], /unexpected argument "extra"/],
      [['list', url, '--bogus'], /list: Unknown option '--bogus'$/],
      [['list', url, '--prefix'], /list: Option '--prefix <value>' argument missing/],
      [['queues', url, '--prefix', 'x'], /queues: Unknown option '--prefix'/],
      [['watch', url, '--interval', '50'], /--interval must be a whole number of milliseconds from 100/],
      [
        ['list', url, '--timeout', '2s'],
        /--timeout must be a whole number of milliseconds from 1 .* got "2s"/,
      ],
    ];
    for (const [argv, message] of cases) {
      const error = refusal(argv);
      expect(error.code, argv.join(' ')).toBe(EXIT.usage);
      expect(error.message).toMatch(message);
    }
  });
});
