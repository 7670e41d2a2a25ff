import { readFileSync } from 'node:fs';
import { type Invocation, parseInvocation } from './args.js';
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

// Each command is loaded when it runs: BullMQ alone takes a second to import, which `--help`,
// `list` and a mistyped option should not pay.
async function run(inv: Invocation, io: Io): Promise<ExitCode> {
  switch (inv.command) {
    case 'help':
      say(io, helpText(inv.topic));
      return EXIT.ok;
    case 'version':
      say(io, version());
      return EXIT.ok;
    case 'list':
      return (await import('./commands/list.js')).list(inv, io);
    case 'inspect':
      return (await import('./commands/inspect.js')).inspect(inv, io);
    case 'release':
      return (await import('./commands/release.js')).release(inv, io);
    case 'watch':
      return (await import('./commands/watch.js')).watch(inv, io);
    case 'queues':
      return (await import('./commands/queues.js')).queues(inv, io);
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
