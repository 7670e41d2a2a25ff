import pg from 'pg';
import type { CounterState, FencedCounter } from './types.js';

/** The tables a Postgres counter needs; `schema` is ours (a checked identifier), never user input. */
export function counterTablesSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS "${schema}";
    CREATE TABLE IF NOT EXISTS "${schema}".counters (key text PRIMARY KEY, value bigint NOT NULL DEFAULT 0, fence bigint);
    CREATE TABLE IF NOT EXISTS "${schema}".applied (seq bigserial PRIMARY KEY, id text UNIQUE NOT NULL, key text NOT NULL);`;
}

/**
 * Counters in a table, fence-checked by conditional updates: a read under a fence records it,
 * and a write under a fence applies only if no newer fence has been seen; each applied write
 * logs its id in the same statement. Rows must exist (`counterTablesSql` plus one insert per key).
 */
export async function pgCounter(
  connectionString: string,
  schema: string,
  name: string,
): Promise<FencedCounter> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  // One connection, replaced after a fault; no statement waits longer than a second.
  const pool = new pg.Pool({
    connectionString,
    application_name: name,
    max: 1,
    connectionTimeoutMillis: 1000,
    query_timeout: 1000,
  });
  pool.on('error', () => {}); // an idle connection that dies is replaced on next use
  const t = `"${schema}"`;
  const fenceOk = '($2::bigint IS NULL OR fence IS NULL OR fence <= $2::bigint)';
  const readSql = `UPDATE ${t}.counters SET fence = COALESCE($2::bigint, fence) WHERE key = $1 AND ${fenceOk} RETURNING value`;
  const writeSql = `WITH u AS (
      UPDATE ${t}.counters SET value = $3, fence = COALESCE($2::bigint, fence) WHERE key = $1 AND ${fenceOk} RETURNING key
    ) INSERT INTO ${t}.applied (id, key) SELECT $4, key FROM u RETURNING id`;
  await pool.query('SELECT 1');

  return {
    async read(key, fence) {
      const { rows } = await pool.query<{ value: string }>(readSql, [key, fence]);
      return rows[0] ? Number(rows[0].value) : null;
    },
    async write(key, fence, value, id) {
      const { rowCount } = await pool.query(writeSql, [key, fence, value, id]);
      return rowCount === 1;
    },
    async state(keys) {
      const out = new Map<string, CounterState>();
      for (const key of keys) {
        const [{ rows: values }, { rows: ids }] = await Promise.all([
          pool.query<{ value: string }>(`SELECT value FROM ${t}.counters WHERE key = $1`, [key]),
          pool.query<{ id: string }>(`SELECT id FROM ${t}.applied WHERE key = $1 ORDER BY seq`, [key]),
        ]);
        out.set(key, { value: Number(values[0]?.value ?? 0), applied: ids.map((r) => r.id) });
      }
      return out;
    },
    async close() {
      await pool.end().catch(() => {});
    },
  };
}
