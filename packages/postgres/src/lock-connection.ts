import { CapabilityUnsupportedError } from '@oncelock/core';
import type { Db } from './db.js';
import { type LockSession, openLockSession, poolerDetected } from './lock-session.js';

const CLOSED = 'the backend was closed';

/**
 * Advisory mode's lock session over time: opened on first need, opened again after it ends,
 * and refused for good once a statement shows the backend is behind a transaction pooler.
 * Every statement on it is checked to have run on the session this backend claimed.
 */
export class LockConnection {
  readonly #db: Db;
  readonly #timeout: number;
  readonly #onEnd: (session: LockSession) => void;
  #current: Promise<LockSession> | undefined;
  #live: LockSession | undefined;
  /** Set for good once the backend finds it cannot work here (behind a transaction pooler). */
  #unusable: CapabilityUnsupportedError | undefined;
  #closed = false;

  /** `onEnd` runs when a session ends: the server has dropped every advisory lock it held. */
  constructor(db: Db, timeout: number, onEnd: (session: LockSession) => void) {
    this.#db = db;
    this.#timeout = timeout;
    this.#onEnd = onEnd;
  }

  get unusable(): boolean {
    return this.#unusable !== undefined;
  }

  /** The open session, opening one if there is none. */
  async session(): Promise<LockSession> {
    for (;;) {
      if (this.#unusable) throw this.#unusable;
      // A plain error: the backend kit reports a call cut short by close() as BackendClosedError.
      if (this.#closed) throw new Error(CLOSED);
      this.#current ??= this.#open();
      const opening = this.#current;
      const s = await opening;
      if (this.#closed) {
        s.end(CLOSED);
        throw new Error(CLOSED);
      }
      if (!s.dead) return s;
      if (this.#current === opening) this.#current = undefined;
    }
  }

  /** One statement on `s`; its one row, once its session check (`mine`) has passed. */
  async exec<R extends { mine: boolean }>(s: LockSession, what: string, text: string, values: unknown[]) {
    let row: R | undefined;
    try {
      [row] = await s.run<R>(what, text, values);
    } catch (error) {
      if (error instanceof CapabilityUnsupportedError) throw this.#behindPooler(s);
      throw error;
    }
    if (!row?.mine) throw this.#behindPooler(s);
    return row;
  }

  /** Refuses new sessions, runs `farewell` on the live one (its errors ignored), then ends every session. */
  async close(farewell: (s: LockSession) => Promise<unknown>): Promise<void> {
    this.#closed = true;
    const s = this.#live;
    if (s && !s.dead) await farewell(s).catch(() => {});
    s?.end(CLOSED);
    await this.#current?.then(
      (opened) => opened.end(CLOSED),
      () => {},
    );
  }

  #open(): Promise<LockSession> {
    const ended = (s: LockSession) => {
      if (this.#live === s) {
        this.#live = undefined;
        this.#current = undefined;
      }
      this.#onEnd(s);
    };
    return openLockSession(this.#db, this.#timeout, ended).then(
      (s) => {
        this.#live = s;
        return s;
      },
      (error: unknown) => {
        this.#current = undefined;
        if (error instanceof CapabilityUnsupportedError) this.#unusable = error;
        throw error;
      },
    );
  }

  /** A statement reached a server session that is not ours: never trust this backend's grants again. */
  #behindPooler(s: LockSession): CapabilityUnsupportedError {
    this.#unusable ??= poolerDetected();
    s.end('a statement reached another server session');
    return this.#unusable;
  }
}
