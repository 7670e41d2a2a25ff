import type { SavedState, SaveStateRequest } from '@oncelock/core/backend';
import { storable, storablePair } from './batch.js';
import type { Shared } from './mode.js';
import type { Liveness } from './sql/rows.js';
import { deleteStateSql, loadStateSql, saveStateSql } from './sql/states.js';

/**
 * `saveState`, `loadState` and `deleteState`, one statement each on any pooled connection. A save
 * checks the lease in the same statement, from the `locks` row: in advisory mode the row is live
 * while its holder's session keeps the key's advisory lock (`deciding` reads pg_locks), which the
 * server knows for every process, so no process's grant ledger needs asking.
 *
 * @param deciding - How the mode tells a live lease row, as it decides a grant.
 */
export function stateOperations({ db, options, ready }: Shared, deciding: Liveness) {
  const sql = {
    save: saveStateSql(options.schema, deciding),
    load: loadStateSql(options.schema),
    delete: deleteStateSql(options.schema),
  };
  return {
    async saveState(request: SaveStateRequest): Promise<boolean> {
      const { key, owner, fence, value } = storablePair(request);
      storable(value, 'state value');
      await ready();
      const [row] = await db.rows<{ saved: boolean }>(sql.save, [key, owner, fence ?? null, value]);
      return row?.saved === true;
    },

    async loadState(key: string): Promise<SavedState | null> {
      storable(key, 'key');
      await ready();
      const [row] = await db.rows<{ value: string; fence: string; saved_ms: number }>(sql.load, [key]);
      return row ? { value: row.value, fence: Number(row.fence), savedAt: Math.round(row.saved_ms) } : null;
    },

    async deleteState(key: string): Promise<boolean> {
      storable(key, 'key');
      await ready();
      const [row] = await db.rows<{ deleted: boolean }>(sql.delete, [key]);
      return row?.deleted === true;
    },
  };
}
