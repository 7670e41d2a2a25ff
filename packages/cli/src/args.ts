import { type ParseArgsConfig, parseArgs } from 'node:util';
import { usageError } from './exit-codes.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const common = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  timeout: { type: 'string' },
} satisfies Options;

// How to reach a lock store; store.ts checks that each fits the URL's scheme.
const store = {
  namespace: { type: 'string' },
  mode: { type: 'string' },
  schema: { type: 'string' },
} satisfies Options;

const prefix = { prefix: { type: 'string' } } satisfies Options;

/** Each command: its positionals (a trailing `...` takes the rest) and its options. */
export const COMMANDS = {
  list: { positionals: ['url'], options: { ...common, ...store, ...prefix } },
  inspect: { positionals: ['url', 'key'], options: { ...common, ...store } },
  release: {
    positionals: ['url', 'key'],
    options: { ...common, ...store, force: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } },
  },
  watch: { positionals: ['url'], options: { ...common, ...store, ...prefix, interval: { type: 'string' } } },
  queues: {
    positionals: ['redis-url', 'queue...'],
    options: { ...common, 'bull-prefix': { type: 'string' } },
  },
} as const satisfies Record<string, { positionals: readonly string[]; options: Options }>;

export type CommandName = keyof typeof COMMANDS;

/** Where a lock store is and how to read it. */
export interface StoreArgs {
  url: string;
  timeout: number;
  namespace: string | undefined;
  mode: string | undefined;
  schema: string | undefined;
}

export type Invocation =
  | { command: 'help'; topic: CommandName | undefined }
  | { command: 'version' }
  | { command: 'list'; store: StoreArgs; prefix: string; json: boolean }
  | { command: 'inspect'; store: StoreArgs; key: string; json: boolean }
  | { command: 'release'; store: StoreArgs; key: string; force: boolean; yes: boolean; json: boolean }
  | { command: 'watch'; store: StoreArgs; prefix: string; interval: number; json: boolean }
  | { command: 'queues'; url: string; timeout: number; queues: string[]; bullPrefix: string; json: boolean };

const isCommand = (name: string | undefined): name is CommandName =>
  name !== undefined && Object.hasOwn(COMMANDS, name);

/** Reads argv (without node and the script); throws a usage CliError on anything it cannot use. */
export function parseInvocation(argv: readonly string[]): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h')
    return { command: 'help', topic: undefined };
  if (first === '--version' || first === '-v') return { command: 'version' };
  if (first === 'help') {
    const topic = rest[0];
    if (topic !== undefined && !isCommand(topic)) throw usageError(`unknown command "${topic}"`);
    return { command: 'help', topic };
  }
  if (!isCommand(first)) {
    throw usageError(`unknown command "${first}"; the commands are ${Object.keys(COMMANDS).join(', ')}`);
  }
  return readCommand(first, rest);
}

function readCommand(command: CommandName, args: string[]): Invocation {
  const spec = COMMANDS[command];
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: spec.options,
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (error) {
    // parseArgs's messages are clear ("Unknown option '--foo'"); only its advice about `--` is not ours.
    throw usageError(`${command}: ${(error as Error).message.replace(/\. To specify a positional.*$/s, '')}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help', topic: command };
  const named = spec.positionals.filter((p) => !p.endsWith('...'));
  if (positionals.length < named.length) {
    throw usageError(`${command}: missing <${named[positionals.length]}>; see oncelock ${command} --help`);
  }
  if (positionals.length > named.length && named.length === spec.positionals.length) {
    throw usageError(`${command}: unexpected argument "${positionals[named.length]}"`);
  }
  const url = positionals[0] as string;
  const json = values.json === true;
  const timeout = millis(values.timeout, '--timeout', 5000, 1);
  const str = (name: string) => values[name] as string | undefined;
  const store: StoreArgs = {
    url,
    timeout,
    namespace: str('namespace'),
    mode: str('mode'),
    schema: str('schema'),
  };
  const key = positionals[1] as string;
  switch (command) {
    case 'list':
      return { command, store, prefix: str('prefix') ?? '', json };
    case 'inspect':
      return { command, store, key, json };
    case 'release':
      return { command, store, key, json, force: values.force === true, yes: values.yes === true };
    case 'watch':
      return {
        command,
        store,
        json,
        prefix: str('prefix') ?? '',
        interval: millis(str('interval'), '--interval', 1000, 100),
      };
    case 'queues':
      return {
        command,
        url,
        timeout,
        json,
        queues: positionals.slice(1),
        bullPrefix: str('bull-prefix') ?? 'bull',
      };
  }
}

/** A whole number of milliseconds of at least `min`, or `fallback` when not given. */
export function millis(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= 3_600_000)) {
    throw usageError(
      `${name} must be a whole number of milliseconds from ${min} to 3600000, got "${String(value)}"`,
    );
  }
  return n;
}
