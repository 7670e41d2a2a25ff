// A NestJS-style service: the backend comes in through the constructor, and the decorator finds
// it on the instance. It compiles with `experimentalDecorators: true` (NestJS's default) and with
// standard decorators alike.
// #region nestjs
import { type LockBackend, runOnceOrCancel } from '@oncelock/redis';

export class InvoiceService {
  constructor(private readonly backend: LockBackend) {}

  /** Every replica runs this on its cron; one at a time does the work, the others skip. */
  @runOnceOrCancel({
    backend(this: InvoiceService) {
      return this.backend;
    },
    key: (month: string) => `invoices:close:${month}`,
    ttl: 60_000,
  })
  async closeMonth(month: string): Promise<number | undefined> {
    return closeInvoices(month);
  }
}
// #endregion nestjs

export const closed: string[] = [];
async function closeInvoices(month: string): Promise<number> {
  closed.push(month);
  await new Promise((resolve) => setTimeout(resolve, 20));
  return closed.length;
}
