import type { Holder } from '@oncelock/core';
import type { Base } from './base.js';
import { storable } from './batch.js';
import { type HolderRow, toHolder, toListed } from './sql/holder.js';
import { inspectSql, type Liveness, listSql } from './sql/rows.js';

/** `inspect` and `list`: the same in both modes but for what makes a row live. */
export function readOperations(base: Base, liveness: Liveness) {
  const inspectQuery = inspectSql(base.options.schema, liveness);
  const listQuery = listSql(base.options.schema, liveness);
  return {
    async inspect(key: string): Promise<Holder | null> {
      base.ensureOpen();
      storable(key, 'key');
      await base.ready();
      const [row] = await base.db.rows<HolderRow>('inspect', inspectQuery, [key]);
      return row ? toHolder(row) : null;
    },

    async list(prefix = ''): Promise<Array<Holder & { key: string }>> {
      base.ensureOpen();
      storable(prefix, 'key prefix');
      await base.ready();
      return (await base.db.rows<HolderRow>('list', listQuery, [prefix])).map(toListed);
    },
  };
}
