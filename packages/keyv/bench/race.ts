// Measures how often two contenders both believe they hold a keyvBackend lock.
//
//   npx tsx packages/keyv/bench/race.ts [--store memory|redis] [--rounds 300] [--contenders 8]
//                                         [--processes 2] [--jitter 0] [--url redis://127.0.0.1:6379]
//                                         [--settle 5] [--variant 3]   (one row of the table only)
//
// Each round uses a fresh key. All contenders try it once, at the same planned instant plus a
// random delay of up to --jitter ms, and keep what they got (TTL 10 s, longer than a round), so
// every grant in a round overlaps every other: a round with two or more grants is a double grant.
// With --processes > 1 (Redis only) contenders are split over forked processes that start each
// round at a planned wall-clock instant, so they race on separate cores as separate workers would.
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  type Contenders,
  contenders,
  type RoundResult,
  type StoreKind,
  sleep,
  sum,
  variants,
} from './race-contenders.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'memory' },
    rounds: { type: 'string', default: '300' },
    contenders: { type: 'string', default: '8' },
    processes: { type: 'string', default: '1' },
    jitter: { type: 'string', default: '0' },
    variant: { type: 'string' },
    settle: { type: 'string', default: '5' },
    url: { type: 'string', default: 'redis://127.0.0.1:6379' },
    worker: { type: 'string' },
    namespace: { type: 'string' },
  },
});

const kind = args.store as StoreKind;
const count = Number(args.contenders);
const processes = Number(args.processes);
const jitter = Number(args.jitter);
const table = variants(Number(args.settle));

interface RoundMessage {
  key: string;
  at: number;
}

if (args.worker !== undefined) {
  await worker(Number(args.worker), args.namespace!);
} else {
  await main();
}

async function main(): Promise<void> {
  if (kind !== 'memory' && kind !== 'redis') throw new Error('--store must be memory or redis');
  if (kind === 'memory' && processes !== 1) throw new Error('in-memory contenders must share one process');
  const rounds = Number(args.rounds);
  const namespace = `race-${process.pid}-${Date.now()}`;
  console.log(
    `store=${kind} rounds=${rounds} contenders=${count} processes=${processes} jitter=${jitter}ms node=${process.version}`,
  );
  console.log(
    '| variant | rounds with 2+ holders | worst round | rounds with no holder | acquire errors | mean acquire ms | load avg (1 min) after |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [v, variant] of table.entries()) {
    if (args.variant !== undefined && Number(args.variant) !== v) continue;
    const group =
      processes > 1
        ? forked(v, `${namespace}-${v}`)
        : contenders(kind, args.url, `${namespace}-${v}`, count, variant);
    let doubled = 0;
    let empty = 0;
    let worst = 0;
    const all: RoundResult[] = [];
    // Connections open on first use: a round that is not counted opens them all.
    await group.round('warm-up', Date.now() + 20, jitter);
    for (let r = 0; r < rounds; r++) {
      const result = await group.round(`round-${r}`, Date.now() + 20, jitter);
      if (result.granted === 0) empty++;
      if (result.granted > 1) doubled++;
      worst = Math.max(worst, result.granted);
      all.push(result);
    }
    await group.close();
    const total = sum(all);
    const pct = ((100 * doubled) / rounds).toFixed(1);
    const mean = (total.ms / total.calls).toFixed(1);
    const load = loadavg()[0]!.toFixed(1);
    console.log(
      `| ${variant.name} | ${doubled}/${rounds} (${pct}%) | ${worst} | ${empty} | ${total.errors} | ${mean} | ${load} |`,
    );
  }
}

/** The same contract as `contenders`, spread over child processes. */
function forked(variant: number, namespace: string): Contenders {
  const per = Math.ceil(count / processes);
  const argv = [
    '--worker',
    String(variant),
    '--namespace',
    namespace,
    '--store',
    kind,
    '--url',
    args.url,
    '--settle',
    args.settle,
  ];
  const children = Array.from({ length: processes }, (_, i) =>
    fork(process.argv[1]!, [...argv, '--contenders', String(Math.min(per, count - i * per))], {
      execArgv: process.execArgv,
    }),
  );
  const ask = (child: (typeof children)[number], msg: RoundMessage | 'close') =>
    new Promise<RoundResult>((resolve) => {
      child.once('message', (reply) => resolve(reply as RoundResult));
      child.send(msg);
    });
  return {
    async round(key, at) {
      // Children start at a wall-clock instant; give the messages time to arrive.
      return sum(await Promise.all(children.map((c) => ask(c, { key, at: at + 30 }))));
    },
    async close() {
      await Promise.all(children.map((c) => ask(c, 'close')));
    },
  };
}

async function worker(variant: number, namespace: string): Promise<void> {
  const c = contenders(kind, args.url, namespace, count, table[variant]!);
  process.on('message', async (msg: RoundMessage | 'close') => {
    if (msg === 'close') {
      await c.close();
      process.send!(sum([]), () => process.exit(0));
      return;
    }
    process.send!(await c.round(msg.key, msg.at, jitter));
  });
  await sleep(0);
}
