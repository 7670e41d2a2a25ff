// BullMQ: 70 emails a second for the whole fleet, however many workers run.
// #region fleet-rate
import { type LockBackend, rateLimitedProcessor } from '@oncelock/bullmq';
import { type ConnectionOptions, Worker } from 'bullmq';

type Email = { to: string; subject: string; body: string };

export function mailWorker(
  name: string,
  connection: ConnectionOptions,
  backend: LockBackend,
  send: (mail: Email) => Promise<void>,
): Worker<Email> {
  return new Worker<Email>(
    name,
    rateLimitedProcessor<Email, void>((job) => send(job.data), {
      backend,
      // One key for the fleet; a function of the job paces per tenant or per API:
      // key: (_name, mail) => `smtp:${mail.to.split('@')[1]}`
      rate: { key: 'smtp', limit: 70, per: 1_000 },
    }),
    // slots for many mails at once: the 71st of a second waits in the delayed set, not here
    { connection, concurrency: 50 },
  );
}
// #endregion fleet-rate
