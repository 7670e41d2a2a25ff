import type pg from 'pg';

/** A 32-bit FNV-1a hash of the key: the least a user does to turn a name into an advisory lock id. */
export function lockId(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * One connection's queries, one after another: what pg does with overlapping `query` calls, but
 * which it now warns about. Callers on many keys share the one session that holds their locks.
 */
export function serial(client: pg.Client) {
  let tail: Promise<unknown> = Promise.resolve();
  return (text: string, values: unknown[]) => {
    const run = tail.then(() => client.query<{ ok: boolean }>(text, values));
    tail = run.catch(() => {});
    return run;
  };
}
