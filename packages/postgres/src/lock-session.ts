import { CapabilityUnsupportedError } from '@oncelock/core';
import { newToken, within } from '@oncelock/core/backend';
import type { Db, Dedicated } from './db.js';
import { PKG } from './options.js';
import { CLAIM_SESSION } from './sql/advisory.js';

/** The one connection whose server session holds a backend's advisory locks. */
export interface LockSession {
  readonly marker: string;
  /** Set once the session has ended or can no longer be trusted; its locks are gone or orphaned. */
  readonly dead: boolean;
  /**
   * Queues `text` at once (statements reach the server one at a time, in call order) and resolves its rows.
   * The statement is prepared once per session under the name `oncelock_<what>`: the session is
   * ours alone, and planning these statements costs more than running them.
   */
  run<R>(what: string, text: string, values: unknown[]): Promise<R[]>;
  /** Ends the session: the server drops every advisory lock it holds. */
  end(why: string): void;
}

/** `prior` is set only if another client already used this server session, as behind a pooler. */
interface Claim {
  prior: string | null;
}

/** The statement landed on a server session that is not ours: a transaction pooler moved us. */
export function poolerDetected(): CapabilityUnsupportedError {
  return new CapabilityUnsupportedError(
    "advisory mode needs a session of its own, but its statements reach different server sessions: it is behind a transaction or statement pooler (such as PgBouncer in transaction mode). Use mode: 'table', or a direct or session-pooled connection",
    { pkg: PKG, backend: 'postgres' },
  );
}

/**
 * Opens the lock connection and claims its session with a random marker. `onEnd` runs once,
 * whenever the session ends: closed by us, killed by the server (idle_session_timeout,
 * pg_terminate_backend), or a broken socket.
 */
export async function openLockSession(
  db: Db,
  timeout: number,
  onEnd: (session: LockSession) => void,
): Promise<LockSession> {
  const conn: Dedicated = await db.dedicated();
  const marker = newToken();
  let dead = false;
  let endedBecause = '';
  let session: LockSession | undefined;
  const end = (why: string) => {
    if (dead) return;
    dead = true;
    endedBecause = why;
    conn.destroy();
    if (session) onEnd(session);
  };
  conn.client.on('error', (error) => end(`its connection failed: ${error.message}`));
  conn.client.on('end', () => end('its connection closed'));

  // Our own queue, one statement in flight at a time: pg is deprecating queries sent while one
  // is running, and the timeout must count from when a statement is sent, not from when it queued.
  let tail: Promise<unknown> = Promise.resolve();
  function run<R>(what: string, text: string, values: unknown[], prepare = true): Promise<R[]> {
    const turn = tail.then(() => send<R>(what, text, values, prepare));
    tail = turn.catch(() => {});
    return turn;
  }

  async function send<R>(what: string, text: string, values: unknown[], prepare: boolean): Promise<R[]> {
    if (dead) throw new Error(`the lock connection has ended: ${endedBecause}`);
    const sent = conn.client.query(prepare ? { name: `oncelock_${what}`, text, values } : { text, values });
    try {
      return (await within(sent, timeout, () => end(`${what} timed out`))).rows as R[];
    } catch (error) {
      // After any failure the session's lock state is unknown: end it, so the server frees
      // whatever it holds and every lease on it is reported lost rather than trusted.
      end(`${what} failed`);
      // Our prepared statement is missing, or another client's is there: a pooler moved us.
      const code = (error as { code?: unknown }).code;
      if (code === '26000' || code === '42P05') throw poolerDetected();
      throw error;
    }
  }

  let claim: Claim | undefined;
  try {
    // Not prepared: behind a pooler it must run even where another backend prepared it, so that
    // it overwrites that backend's marker and both find out.
    [claim] = await run<Claim>('connect', CLAIM_SESSION, [marker], false);
  } catch (error) {
    end('connect failed');
    throw error;
  }
  if (!claim || claim.prior) {
    end('its server session was already claimed');
    throw poolerDetected();
  }
  session = {
    marker,
    get dead() {
      return dead;
    },
    run,
    end,
  };
  return session;
}
