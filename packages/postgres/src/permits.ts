import type { AcquireResult } from '@oncelock/core/backend';
import { advisoryLockId } from './lock-id.js';
import type { Shared } from './mode.js';
import { type HolderRow, toHolder } from './sql/holder.js';
import { permitClearSql } from './sql/permits.js';

/** A permit acquire's row (see sql/permits.ts); the holder's columns are NULL on a grant. */
export type PermitRow = Partial<HolderRow> & { granted_fence: string | null; held_limit: number | null };

/** What a permit acquire's row says: a grant, or a refusal with the first holder to end and the key's limit. */
export function permitOutcome(row: PermitRow): AcquireResult {
  if (row.granted_fence !== null) return { granted: true, fence: Number(row.granted_fence) };
  const holder = row.owner ? toHolder(row as HolderRow) : undefined;
  return { granted: false, holder, limit: row.held_limit ?? undefined };
}

/** What both modes share for permits: the lock id that serialises a key's permits, and plain refusals by them. */
export function permitsOf({ db, options }: Shared) {
  const clear = permitClearSql(options.schema);
  const lockId = (key: string) => String(advisoryLockId(key, options.schema));
  return {
    lockId,
    /**
     * A plain acquire met the header of a key held by permits under `limit`. If every permit of
     * the key has ended (its holders died without releasing), the header goes and `retry` runs
     * once; otherwise the refusal says the limit, and core throws `LimitMismatchError`.
     */
    async refusedPlain(
      key: string,
      limit: number,
      retry?: () => Promise<AcquireResult>,
    ): Promise<AcquireResult> {
      if (!retry) return { granted: false, limit };
      const [row] = await db.rows<{ held_limit: number | null }>(clear, [key, lockId(key)]);
      return row?.held_limit == null ? retry() : { granted: false, limit: row.held_limit };
    },
  };
}
