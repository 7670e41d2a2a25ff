import type { AuditRow } from '../workload.js';

/** A filled repr: what one job inserts for one row. */
export interface ReprRow {
  id: number;
  repr: string;
}

/**
 * The audit log and its reprs: `audit_log` rows arrive bare; a job inserts their reprs into
 * `audit_log_repr`, whose primary key is the row id. Filling a row twice therefore fails the
 * whole insert, as it does in Postgres.
 */
export interface AuditTable {
  readonly kind: 'memory' | 'postgres';
  /** Drops every row and repr. */
  reset(): Promise<void>;
  /** New rows arrive, without reprs. */
  append(rows: readonly AuditRow[]): Promise<void>;
  /** Up to `limit` rows without a repr, oldest first. */
  missing(limit: number): Promise<AuditRow[]>;
  /** One insert of every repr; all or nothing. A row that already has one fails it with a unique violation. */
  fill(reprs: readonly ReprRow[]): Promise<void>;
  counts(): Promise<{ rows: number; filled: number }>;
  close(): Promise<void>;
}

/** Postgres's SQLSTATE for unique_violation; the in-process table uses it too. */
export const UNIQUE_VIOLATION = '23505';

/** What the in-process table throws where Postgres would answer 23505. */
export class UniqueViolationError extends Error {
  readonly code = UNIQUE_VIOLATION;
  constructor(id: number) {
    super(
      `duplicate key value violates unique constraint "audit_log_repr_pkey": Key (log_id)=(${id}) already exists`,
    );
    this.name = 'UniqueViolationError';
  }
}

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
}
