import { type QueueStats, queueStats } from '@oncelock/bullmq';
import { Queue } from 'bullmq';
import type { Invocation } from '../args.js';
import { explain } from '../errors.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { queuesTable } from '../format-queues.js';
import { type Io, json, say } from '../io.js';
import { connectRedis, findQueues } from '../queue-client.js';
import { redact } from '../store.js';

export type NamedStats = QueueStats & { queue: string };

/** `oncelock queues <redis-url> [queue...]`: jobs by state and the oldest waiting job's age, per queue. */
export async function queues(inv: Extract<Invocation, { command: 'queues' }>, io: Io): Promise<ExitCode> {
  const client = await connectRedis(inv.url, inv.timeout);
  try {
    const names = inv.queues.length > 0 ? inv.queues : await findQueues(client, inv.bullPrefix);
    const stats = await Promise.all(
      names.map(async (name): Promise<NamedStats> => {
        // skipMetasUpdate: looking at a queue must not write to it.
        const queue = new Queue(name, { connection: client, prefix: inv.bullPrefix, skipMetasUpdate: true });
        try {
          return { queue: name, ...(await queueStats(queue, { timeout: inv.timeout })) };
        } finally {
          await queue.close();
        }
      }),
    );
    if (inv.json) json(io, stats);
    else if (stats.length === 0) say(io, `no BullMQ queues under "${inv.bullPrefix}:"`);
    else say(io, queuesTable(stats));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const { code, message } = explain(error, redact(inv.url));
    throw new CliError(code, message);
  } finally {
    client.disconnect();
  }
}
