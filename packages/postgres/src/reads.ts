import type { Holder } from '@oncelock/core';
import { storable } from './batch.js';
import type { Shared } from './mode.js';
import { type HolderRow, toHolder, toListed } from './sql/holder.js';
import { inspectSql, type Liveness, listSql } from './sql/rows.js';

/** `inspect` and `list`: the same in both modes but for what makes a row live. */
export function readOperations({ db, options, ready }: Shared, liveness: Liveness) {
  const inspectQuery = inspectSql(options.schema, liveness);
  const listQuery = listSql(options.schema, liveness);
  return {
    async inspect(key: string): Promise<Holder | null> {
      storable(key, 'key');
      await ready();
      const holders = (await db.rows<HolderRow>(inspectQuery, [key])).map(toHolder);
      const [first] = holders;
      // A key held by permits shows every holder, oldest first; a plain lease is its one holder.
      return first?.limit === undefined ? (first ?? null) : { ...first, holders };
    },

    async list(prefix = ''): Promise<Array<Holder & { key: string }>> {
      storable(prefix, 'key prefix');
      await ready();
      return (await db.rows<HolderRow>(listQuery, [prefix])).map(toListed);
    },
  };
}
