import { randomBytes } from 'node:crypto';
import { type PostgresBackend, type PostgresMode, postgresBackend } from '@oncelock/postgres';
import { postgresUrl } from '@oncelock/testkit/servers';
import pg from 'pg';

/** A schema of this test file's own, so that files running in parallel never share a lock table. */
export function testSchema(file: string): string {
  return `t_${file}_${randomBytes(4).toString('hex')}`;
}

/** One statement on a short-lived connection of the test's own (not the backend's). */
export async function sql<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: postgresUrl, application_name: 'oncelock-postgres-test' });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(text, values)).rows as R[];
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** The server pid of the session that holds `key` in advisory mode, from its row. */
export async function holderPid(schema: string, key: string): Promise<number | undefined> {
  const [row] = await sql<{ pid: number | null }>(`SELECT pid FROM "${schema}".locks WHERE key = $1`, [key]);
  return row?.pid ?? undefined;
}

/** Advisory lock counts a server session holds, from pg_locks. */
export async function advisoryLocksOf(pid: number): Promise<number> {
  const [row] = await sql<{ n: string }>(
    `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = $1`,
    [pid],
  );
  return Number(row?.n ?? 0);
}

/** Backends on `schema` that a test makes (table mode with a LISTEN connection), and their closing. */
export function backendsOn(schema: string) {
  const made: PostgresBackend[] = [];
  return {
    make(mode: PostgresMode = 'advisory'): PostgresBackend {
      const b = postgresBackend({
        connectionString: postgresUrl,
        schema,
        mode,
        ...(mode === 'table' && { listen: postgresUrl }),
      });
      made.push(b);
      return b;
    },
    async closeAll(): Promise<void> {
      await Promise.all(made.splice(0).map((b) => b.close()));
    },
  };
}

/**
 * How many index entries a bitmap scan of `key`'s rows in `table` (permits or waiters) reads: the
 * live ones, and the dead ones no scan has marked yet (a bitmap scan marks none itself).
 */
export async function entriesScanned(
  schema: string,
  table: 'permits' | 'waiters',
  key: string,
): Promise<number> {
  const client = new pg.Client({ connectionString: postgresUrl, application_name: 'oncelock-postgres-test' });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('SET enable_seqscan = off; SET enable_indexscan = off');
    const { rows } = await client.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT 1 FROM "${schema}".${table} WHERE key = $1`,
      [key],
    );
    type Node = { 'Node Type': string; 'Actual Rows': number; Plans?: Node[] };
    const heap = (rows[0] as { 'QUERY PLAN': Array<{ Plan: Node }> })['QUERY PLAN'][0]!.Plan;
    const index = heap.Plans?.[0];
    if (heap['Node Type'] !== 'Bitmap Heap Scan' || index?.['Node Type'] !== 'Bitmap Index Scan')
      throw new Error(`expected a bitmap scan, got ${heap['Node Type']}`);
    return index['Actual Rows'];
  } finally {
    await client.end();
  }
}
