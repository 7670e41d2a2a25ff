import { InvalidArgumentError } from '@oncelock/core';
import pg from 'pg';
import { PKG } from '../options.js';
import type { AuditRow } from '../workload.js';
import type { AuditTable } from './table.js';

/** A schema of its own per run, so that runs (and test files) never share tables. */
export function runSchema(): string {
  return `backfill_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

const quote = (schema: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new InvalidArgumentError(`bad schema name ${schema}`, { pkg: PKG });
  return `"${schema}"`;
};

/** Creates the two tables. `audit_log_repr.log_id` is the primary key: a second fill of a row fails. */
export async function createSchema(url: string, schema: string): Promise<void> {
  const s = quote(schema);
  await once(url, async (c) => {
    await c.query(`CREATE SCHEMA ${s}`);
    await c.query(`CREATE TABLE ${s}.audit_log (
      id bigint PRIMARY KEY, actor text NOT NULL, action text NOT NULL,
      object_type text NOT NULL, object_id bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    await c.query(`CREATE TABLE ${s}.audit_log_repr (
      log_id bigint PRIMARY KEY REFERENCES ${s}.audit_log (id), instance_repr text NOT NULL)`);
  });
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  await once(url, (c) => c.query(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`));
}

async function once<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The audit table in Postgres, through a small pool: each method is one statement. */
export function postgresTable(url: string, schema: string, poolSize = 2): AuditTable {
  const s = quote(schema);
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'audit-log-backfill' });
  // An idle client's error (a server restart) surfaces on its next query; do not crash the process.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    async reset() {
      await pool.query(`TRUNCATE ${s}.audit_log_repr, ${s}.audit_log`);
    },
    async append(rows) {
      if (rows.length === 0) return;
      await pool.query(
        `INSERT INTO ${s}.audit_log (id, actor, action, object_type, object_id)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[])`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.actor),
          rows.map((r) => r.action),
          rows.map((r) => r.objectType),
          rows.map((r) => r.objectId),
        ],
      );
    },
    async missing(limit) {
      const { rows } = await pool.query<{
        id: string;
        actor: string;
        action: AuditRow['action'];
        object_type: string;
        object_id: string;
      }>(
        `SELECT l.id, l.actor, l.action, l.object_type, l.object_id FROM ${s}.audit_log l
         WHERE NOT EXISTS (SELECT 1 FROM ${s}.audit_log_repr r WHERE r.log_id = l.id)
         ORDER BY l.id LIMIT $1`,
        [limit],
      );
      return rows.map((r) => ({
        id: Number(r.id),
        actor: r.actor,
        action: r.action,
        objectType: r.object_type,
        objectId: Number(r.object_id),
      }));
    },
    async fill(reprs) {
      if (reprs.length === 0) return;
      // One statement: a single row that already has a repr fails the whole insert (23505).
      await pool.query(
        `INSERT INTO ${s}.audit_log_repr (log_id, instance_repr) SELECT * FROM unnest($1::bigint[], $2::text[])`,
        [reprs.map((r) => r.id), reprs.map((r) => r.repr)],
      );
    },
    async counts() {
      const { rows } = await pool.query<{ rows: number; filled: number }>(
        `SELECT (SELECT count(*)::int FROM ${s}.audit_log) AS rows, (SELECT count(*)::int FROM ${s}.audit_log_repr) AS filled`,
      );
      return rows[0]!;
    },
    async close() {
      await pool.end();
    },
  };
}
