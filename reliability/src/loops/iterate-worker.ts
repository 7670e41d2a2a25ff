// One process of the iterate torture's fleet, run as a child process:
//
//   node dist/loops/iterate-worker.js '<IterateWorkerConfig as JSON>'
//
// It runs one `iterate` over the lab's rows table. Each step is one PostgreSQL transaction: it
// reads the next chunk of ids after the cursor, "processes" them (a pause), and marks each row
// with the step's run id and records the run (its cursor and its parent: the run whose saved
// cursor it began from). The cursor it returns names its run, so a later step's parent says
// which runs' cursor saves committed.
import { iterate } from '@oncelock/core';
import pg from 'pg';
import { delay } from '../deadline.js';
import { type BackendSpec, createBackend } from '../targets.js';
import { childProcess, send } from './child.js';
import type { RowCursor } from './iterate-tables.js';

export interface IterateWorkerConfig {
  name: string;
  backend: BackendSpec;
  postgresUrl: string;
  /** Where `rows`, `marks` and `runs` live (see iterateTablesSql). */
  schema: string;
  loop: string;
  ttl: number;
  chunk: number;
  /** ms of "processing" per chunk, inside its transaction. */
  workMs: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as IterateWorkerConfig;
const t = `"${config.schema}"`;
const pool = new pg.Pool({ connectionString: config.postgresUrl, max: 1, application_name: config.name });
pool.on('error', () => {});
const backend = createBackend(config.backend);
let runNo = 0;

const walk = iterate<RowCursor>(backend, config.loop, {
  start: { after: 0, by: null },
  ttl: config.ttl,
  interval: 3_600_000,
  onError: () => {},
  step: async (cursor, { processed }) => {
    const run = `${config.name}#${++runNo}`;
    send({ type: 'pass', at: Date.now() });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: number }>(
        `SELECT id FROM ${t}.rows WHERE id > $1 ORDER BY id LIMIT $2`,
        [cursor.after, config.chunk],
      );
      if (rows.length === 0) {
        await client.query('ROLLBACK');
        return null;
      }
      await delay(config.workMs);
      const ids = rows.map((r) => r.id);
      const last = ids.at(-1)!;
      await client.query(`INSERT INTO ${t}.marks (row_id, run) SELECT unnest($1::int[]), $2`, [ids, run]);
      await client.query(
        `INSERT INTO ${t}.runs (run, worker, after, last, parent, n) VALUES ($1, $2, $3, $4, $5, $6)`,
        [run, config.name, cursor.after, last, cursor.by, ids.length],
      );
      await client.query('COMMIT');
      processed(ids.length);
      return { after: last, by: run };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  },
});
childProcess(async () => {
  await walk.stop();
  await Promise.all([backend.close(), pool.end()]).catch(() => {});
});
send({ type: 'ready' });
