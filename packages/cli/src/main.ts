import { readFileSync } from 'node:fs';
import { type Invocation, parseInvocation } from './args.js';
import { inspect } from './commands/inspect.js';
import { list } from './commands/list.js';
import { queues } from './commands/queues.js';
import { release } from './commands/release.js';
import { watch } from './commands/watch.js';
import { explain } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { helpText } from './help.js';
import { type Io, say } from './io.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function run(inv: Invocation, io: Io): Promise<ExitCode> | ExitCode {
  switch (inv.command) {
    case 'help':
      say(io, helpText(inv.topic));
      return EXIT.ok;
    case 'version':
      say(io, version());
      return EXIT.ok;
    case 'list':
      return list(inv, io);
    case 'inspect':
      return inspect(inv, io);
    case 'release':
      return release(inv, io);
    case 'watch':
      return watch(inv, io);
    case 'queues':
      return queues(inv, io);
  }
}

/** Runs one `oncelock` command line; every failure becomes a one-line message and an exit code. */
export async function main(argv: readonly string[], io: Io): Promise<ExitCode> {
  try {
    return await run(parseInvocation(argv), io);
  } catch (error) {
    const { code, message } = explain(error);
    io.stderr.write(`oncelock: ${message}\n`);
    if (code === EXIT.usage) io.stderr.write('oncelock --help lists the commands and options\n');
    return code;
  }
}
