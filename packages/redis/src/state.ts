import type { SavedState, SaveStateRequest } from '@oncelock/core/backend';
import type { Connection } from './connection.js';
import type { KeySpace } from './keys.js';
import * as lua from './lua.generated.js';
import { runScript } from './run-script.js';

/**
 * A lease holder's saved state (a loop's cursor): saved by save-2.lua, which checks the holder in
 * the lock's hash in the same slot; read and deleted with one plain command each.
 */
export interface StateCommands {
  saveState(request: SaveStateRequest): Promise<boolean>;
  loadState(key: string): Promise<SavedState | null>;
  deleteState(key: string): Promise<boolean>;
}

export function stateCommands(conn: Connection, keys: KeySpace): StateCommands {
  return {
    async saveState({ key, owner, fence, value }) {
      const args = [owner, fence ?? '', value];
      return (await conn.run((c) => runScript(c, lua.save, [keys.lock(key), keys.state(key)], args))) === 1;
    },

    async loadState(key) {
      const [value, fence, savedAt] = await conn.run((c) =>
        c.hmget(keys.state(key), 'value', 'fence', 'savedAt'),
      );
      if (value === null || value === undefined) return null;
      const saved = { value, savedAt: Number(savedAt) };
      return fence ? { ...saved, fence: Number(fence) } : saved;
    },

    async deleteState(key) {
      return (await conn.run((c) => c.del(keys.state(key)))) === 1;
    },
  };
}
