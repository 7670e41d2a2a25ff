import type { Holder } from '@oncelock/core';

/** A row of `HOLDER_COLUMNS` (see rows.ts). */
export interface HolderRow {
  key: string;
  owner: string;
  fence: string;
  since_ms: number;
  ttl_ms: number;
  /** Set on a permit: the limit of its key. */
  permit_limit: number | null;
}

export function toHolder(row: HolderRow): Holder {
  const holder = {
    owner: row.owner,
    fence: Number(row.fence),
    ttlRemaining: Math.round(row.ttl_ms),
    since: Math.round(row.since_ms),
  };
  return row.permit_limit === null ? holder : { ...holder, limit: row.permit_limit };
}

export function toListed(row: HolderRow): Holder & { key: string } {
  return { key: row.key, ...toHolder(row) };
}
