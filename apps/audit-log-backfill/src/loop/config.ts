/** What a loop worker process needs: the table, the lock store, and the loop's terms. */
export interface LoopWorkerConfig {
  /** The loop's name, shared by every process (see loopName). */
  name: string;
  postgresUrl: string;
  schema: string;
  batch: number;
  rowCostMs: number;
  intervalMs: number;
}

/**
 * The lock store of the loop's worker processes: the PostgreSQL the table lives in, in table mode
 * (leases whose expiry the database clock decides), with a LISTEN connection for the wake-ups.
 *
 * @param url - The PostgreSQL connection string.
 */
export const loopStore = (url: string) => ({ connectionString: url, mode: 'table' as const, listen: url });
