import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test database (trust auth, loopback). */
export const PG_URL = process.env.ONCELOCK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema of this test file's own, so that files running in parallel never share a lock table. */
export function testSchema(file: string): string {
  return `t_${file}_${randomBytes(4).toString('hex')}`;
}

/** One statement on a short-lived connection of the test's own (not the backend's). */
export async function sql<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL, application_name: 'oncelock-postgres-test' });
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

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves `l.signal`'s reason once it aborts. */
export function lostReason(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );
}

/** Polls `check` every 25 ms until it resolves true or `ms` pass; resolves its last answer. */
export async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (performance.now() >= until) return false;
    await delay(25);
  }
}
