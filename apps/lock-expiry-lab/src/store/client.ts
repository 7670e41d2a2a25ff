import { StaleFenceError } from '@oncelock/core';
import type { ParentMessage, StoreSpec } from '../protocol.js';

/** The protected store as a worker sees it: a write is applied, or refused for a stale fence. */
export interface StoreClient {
  /** Resolves `true` if applied, `false` if refused for a stale fence; throws if the store cannot answer. */
  write(key: string, fence: number | null, value: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Writes go to the parent, which keeps the resource and checks fences (see `store/parent.ts`). */
function parentStore(): StoreClient {
  let next = 0;
  const pending = new Map<number, (accepted: boolean) => void>();
  const onMessage = (m: ParentMessage) => {
    if (m?.type !== 'written') return;
    pending.get(m.id)?.(m.accepted);
    pending.delete(m.id);
  };
  process.on('message', onMessage);
  return {
    write(_key, fence, value) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, resolve);
        process.send?.({ type: 'write', id, fence, value }, (error: Error | null) => {
          if (error) {
            pending.delete(id);
            reject(error);
          }
        });
      });
    },
    async close() {
      process.off('message', onMessage);
    },
  };
}

/** A row in Postgres, written with `fencedUpdate`: the fence check and the write are one statement. */
async function postgresStore(url: string, table: string): Promise<StoreClient> {
  const [{ default: pg }, { fencedUpdate }] = await Promise.all([import('pg'), import('@oncelock/postgres')]);
  const pool = new pg.Pool({ connectionString: url, max: 1, application_name: 'lock-expiry-lab-store' });
  pool.on('error', () => {});
  return {
    async write(key, fence, value) {
      if (fence === null) {
        await pool.query(`UPDATE ${table} SET value = $2 WHERE id = $1`, [key, value]);
        return true;
      }
      try {
        await fencedUpdate(pool, { table, set: { value }, where: { id: key }, fence });
        return true;
      } catch (error) {
        if (error instanceof StaleFenceError) return false;
        throw error;
      }
    },
    close: () => pool.end(),
  };
}

export async function storeClient(spec: StoreSpec): Promise<StoreClient> {
  return spec.kind === 'parent' ? parentStore() : await postgresStore(spec.url, spec.table);
}
