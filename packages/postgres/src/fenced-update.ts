import { StaleFenceError } from '@oncelock/core';
import { invalid, unavailable } from '@oncelock/core/backend';
import { PKG } from './options.js';

/** Anything that runs a parameterised statement: a pg Pool, Client or PoolClient. */
export interface Queryable {
  /**
   * Runs one parameterised statement.
   *
   * @param text - The SQL, with `$1`, `$2`… placeholders.
   * @param values - The placeholders' values, in order. Optional.
   */
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>;
}

/** Options of {@link fencedUpdate}. */
export interface FencedUpdateOptions {
  /** The table, optionally schema-qualified: `accounts` or `billing.accounts`. */
  table: string;
  /** Columns to set, by name. */
  set: Record<string, unknown>;
  /** Equality conditions that pick the rows, by column name. At least one. */
  where: Record<string, unknown>;
  /** The lease's fence (`lease.fence`). */
  fence: number;
  /** The column that keeps the last fence a write carried. Default `fence`. */
  fenceColumn?: string;
}

const at = { pkg: PKG, call: 'fencedUpdate()' };

function ident(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 63 || name.includes('\0')) {
    throw invalid(at, `${what} must be a column or table name of 1 to 63 characters`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

function entries(value: unknown, what: string): Array<[string, unknown]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid(at, `${what} must be an object of column values`);
  const list = Object.entries(value as object);
  if (list.length === 0) throw invalid(at, `${what} must name at least one column`);
  return list;
}

/**
 * Applies an UPDATE only if `fence` is not older than the fence the rows last accepted, and
 * records `fence` in `fenceColumn`:
 *
 *   UPDATE t SET a = $1, fence = $f WHERE id = $2 AND (fence IS NULL OR fence <= $f)
 *
 * The check and the write are one statement, so a holder whose lease has ended (and whose
 * successor has already written with a newer fence) cannot overwrite the successor's work, however
 * late its write arrives. Resolves the number of rows updated (0 if no row matches `where`);
 * throws `StaleFenceError` if matching rows exist but carry a newer fence.
 *
 * @param db - Where to run the UPDATE: a pg `Pool`, `Client` or `PoolClient` (inside your own
 *   transaction, if you hold one).
 * @param options - The `table`, the columns to `set`, the `where` conditions, the lease's
 *   `fence` and the `fenceColumn` (default `fence`).
 */
export async function fencedUpdate(db: Queryable, options: FencedUpdateOptions): Promise<number> {
  if (options === null || typeof options !== 'object') throw invalid(at, 'needs an options object');
  const { fence } = options;
  if (typeof fence !== 'number' || !Number.isSafeInteger(fence) || fence < 0)
    throw invalid(at, 'fence must be a non-negative safe integer');
  if (typeof options.table !== 'string') throw invalid(at, 'table must be a string');
  const table = options.table
    .split('.')
    .map((part) => ident(part, 'table'))
    .join('.');
  const fenceColumn = ident(options.fenceColumn ?? 'fence', 'fenceColumn');
  const set = entries(options.set, 'set');
  const where = entries(options.where, 'where');
  const values: unknown[] = [fence];
  const param = (v: unknown) => `$${values.push(v)}`;
  const assignments = set.map(([column, v]) => `${ident(column, 'set column')} = ${param(v)}`);
  const conditions = where
    .map(([column, v]) => `${ident(column, 'where column')} = ${param(v)}`)
    .join(' AND ');
  const query = (text: string, params: unknown[]) =>
    // The database's own error (an unknown column, a lost connection) becomes a typed one.
    db.query(text, params).catch((error: unknown) => {
      throw unavailable({ pkg: PKG }, `fencedUpdate on ${options.table}`, error);
    });
  const updated = await query(
    `UPDATE ${table} SET ${[...assignments, `${fenceColumn} = $1`].join(', ')}
     WHERE ${conditions} AND (${fenceColumn} IS NULL OR ${fenceColumn} <= $1)`,
    values,
  );
  if ((updated.rowCount ?? 0) > 0) return updated.rowCount ?? 0;
  // Nothing applied: either no such row, or a newer fence got there first. Only the latter is stale.
  const whereValues = where.map(([, v]) => v);
  const conditionsAgain = where
    .map(([column], i) => `${ident(column, 'where column')} = $${i + 1}`)
    .join(' AND ');
  const seen = await query(
    `SELECT max(${fenceColumn})::text AS latest FROM ${table} WHERE ${conditionsAgain}`,
    whereValues,
  );
  const latest = (seen.rows[0] as { latest: string | null } | undefined)?.latest;
  if (latest === null || latest === undefined) return 0;
  throw new StaleFenceError(options.table, fence, Number(latest), { pkg: PKG });
}
