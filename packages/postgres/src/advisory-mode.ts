import {
  type AcquireRequest,
  type AcquireResult,
  BackendClosedError,
  CapabilityUnsupportedError,
  type ExtendRequest,
  type ReleaseRequest,
} from '@oncelock/core';
import { type Base, makeBase, type PostgresBackend } from './base.js';
import { storable, uniquePairs } from './batch.js';
import { unavailable } from './db.js';
import { advisoryLockId } from './lock-id.js';
import type { ParsedOptions } from './options.js';
import { readOperations } from './reads.js';
import { openSession, poolerDetected, type Session } from './session.js';
import { acquireSql, closeSql, extendSql, releaseSql, unlockSql } from './sql/advisory.js';
import { type HolderRow, toHolder } from './sql/holder.js';
import { BY_SESSION_SNAPSHOT } from './sql/rows.js';

const now = () => performance.now();

/** A grant this backend's session made: it holds one count of the key's shared advisory lock. */
interface Grant {
  readonly key: string;
  readonly owner: string;
  readonly id: string;
  readonly session: Session;
  /** Monotonic time after which the count is given back unless the grant was extended. */
  expiresAt: number;
}

interface AcquireRow extends Partial<HolderRow> {
  mine: boolean;
  granted_fence: string | null;
  unlocked: boolean | null;
}

const grantKey = (key: string, owner: string) => JSON.stringify([key, owner]);

/**
 * Advisory mode: the `locks` row decides who holds a key; a shared advisory lock that the
 * holder's session keeps on the key's lock id says whether that holder is still alive. When the
 * session ends (the process died, the connection broke), its rows are dead at once and the keys
 * are free. A frozen process's rows expire at their TTL by the database clock.
 *
 * All of it runs on one dedicated connection per backend, with every grant multiplexed on it.
 * Advisory locks are re-entrant per session and stack, so the backend counts: one count per
 * grant it made, given back exactly once (on release, at expiry, or when the store says the grant
 * is gone), and every unlock's result is checked.
 */
export function advisoryBackend(options: ParsedOptions): PostgresBackend {
  const base: Base = makeBase(options, 'postgres', undefined);
  const { db, where, channel } = base;
  const schema = options.schema;
  const sql = {
    acquire: acquireSql(schema),
    extend: extendSql(schema),
    release: releaseSql(schema),
    close: closeSql(schema),
  };
  const grants = new Map<string, Grant>();
  /** Acquire and release calls in flight, per (key, owner): the next one waits for them. */
  const pending = new Map<string, Promise<unknown>>();
  /** Lock ids to give one count back for, per session, sent together at the end of the tick. */
  const toUnlock = new Map<Session, string[]>();
  let current: Promise<Session> | undefined;
  let live: Session | undefined;
  /** Set for good once the backend finds it cannot work here (behind a transaction pooler). */
  let unusable: CapabilityUnsupportedError | undefined;
  let sweepTimer: ReturnType<typeof setTimeout> | undefined;
  let sweepAt = Number.POSITIVE_INFINITY;

  function onEnd(session: Session): void {
    // The server has dropped every count the session held: its grants are gone, nothing to give back.
    for (const [k, g] of grants) if (g.session === session) grants.delete(k);
    toUnlock.delete(session);
    if (live === session) {
      live = undefined;
      current = undefined;
    }
    schedule();
  }

  async function session(): Promise<Session> {
    for (;;) {
      if (unusable) throw unusable;
      base.ensureOpen();
      current ??= openSession(db, options.timeout, onEnd).then(
        (s) => {
          live = s;
          return s;
        },
        (error) => {
          current = undefined;
          if (error instanceof CapabilityUnsupportedError) unusable = error;
          throw error;
        },
      );
      const opening = current;
      const s = await opening;
      if (base.closed) {
        s.end('the backend was closed');
        throw new BackendClosedError(where);
      }
      if (!s.dead) return s;
      if (current === opening) current = undefined;
    }
  }

  /** A statement reached a server session that is not ours: never trust this backend's grants again. */
  function behindPooler(s: Session): CapabilityUnsupportedError {
    unusable ??= poolerDetected(where);
    s.end('a statement reached another server session');
    return unusable;
  }

  /** One statement on the lock session; its one row, after the session check. */
  async function exec<R extends { mine: boolean }>(
    s: Session,
    what: string,
    text: string,
    values: unknown[],
  ): Promise<R> {
    let row: R | undefined;
    try {
      [row] = await s.run<R>(what, text, values);
    } catch (error) {
      if (error instanceof CapabilityUnsupportedError) throw behindPooler(s);
      throw error;
    }
    if (!row?.mine) throw behindPooler(s);
    return row;
  }

  /** Forgets `g` and gives its count back (batched). Only the caller that removes it gives it back. */
  function drop(g: Grant, reschedule = true): void {
    const k = grantKey(g.key, g.owner);
    if (grants.get(k) !== g) return;
    grants.delete(k);
    if (reschedule) schedule();
    if (g.session.dead) return;
    const ids = toUnlock.get(g.session);
    if (ids) {
      ids.push(g.id);
      return;
    }
    toUnlock.set(g.session, [g.id]);
    queueMicrotask(() => flush(g.session));
  }

  function flush(s: Session): void {
    const ids = toUnlock.get(s);
    toUnlock.delete(s);
    if (!ids || s.dead) return;
    exec<{ mine: boolean; unlocked: boolean[] }>(s, 'unlock', unlockSql, [s.marker, ids]).then(
      (row) => {
        // The session did not hold a count we gave it: its lock state is not what we think.
        if (!row.unlocked.every(Boolean)) s.end('an unlock found no lock to give back');
      },
      () => {}, // the session has ended already: the server gave every count back
    );
  }

  /** Gives back the counts of grants past their expiry. Runs from a timer: never throws. */
  function sweep(): void {
    sweepTimer = undefined;
    try {
      const t = now();
      // A grant being renewed had its expiry moved before its statement went out: it is not due.
      for (const g of [...grants.values()]) if (g.expiresAt <= t) drop(g, false);
    } finally {
      schedule();
    }
  }

  function schedule(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const g of grants.values()) next = Math.min(next, g.expiresAt);
    if (sweepTimer && next === sweepAt) return;
    clearTimeout(sweepTimer);
    sweepTimer = undefined;
    sweepAt = next;
    if (next === Number.POSITIVE_INFINITY || base.closed) return;
    sweepTimer = setTimeout(sweep, Math.max(0, next - now()));
    // The grants do not keep the process alive; the work they protect does.
    sweepTimer.unref?.();
  }

  /** Runs `fn` after every earlier acquire or release of (key, owner) in this backend has settled. */
  async function serial<T>(k: string, fn: () => Promise<T>): Promise<T> {
    for (let busy = pending.get(k); busy; busy = pending.get(k)) await busy.catch(() => {});
    const op = fn();
    pending.set(k, op);
    try {
      return await op;
    } finally {
      if (pending.get(k) === op) pending.delete(k);
    }
  }

  async function acquireOnce(key: string, owner: string, ttl: number): Promise<AcquireResult> {
    await base.ready();
    const s = await session();
    const k = grantKey(key, owner);
    let g = grants.get(k);
    if (g && (g.session !== s || g.expiresAt <= now())) {
      drop(g);
      g = undefined;
    }
    const expiresAt = now() + ttl;
    // Keep the sweep off a grant that is being renewed.
    if (g) g.expiresAt = Math.max(g.expiresAt, expiresAt);
    const id = String(advisoryLockId(key, schema));
    const row = await exec<AcquireRow>(s, 'acquire', sql.acquire, [
      s.marker,
      id,
      key,
      owner,
      ttl,
      g !== undefined,
    ]);
    if (row.unlocked === false) {
      s.end('an unlock found no lock to give back');
      throw unavailable(where, 'acquire', new Error('the lock connection lost track of its locks'));
    }
    if (row.granted_fence === null) {
      // Someone else holds it now (our earlier grant, if any, was released or taken over).
      if (g) drop(g);
      return { granted: false, holder: row.owner ? toHolder(row as HolderRow) : undefined };
    }
    if (s.dead)
      throw unavailable(where, 'acquire', new Error('the lock connection ended just after the grant'));
    if (g && grants.get(k) === g) g.expiresAt = expiresAt;
    else grants.set(k, { key, owner, id, session: s, expiresAt });
    schedule();
    return { granted: true, fence: Number(row.granted_fence) };
  }

  async function releaseOnce(key: string, owner: string): Promise<boolean> {
    const k = grantKey(key, owner);
    const g = grants.get(k);
    // Without a grant here, the release is for a grant another process made: it still needs a session.
    const s = g?.session ?? (await session());
    if (g) {
      grants.delete(k);
      schedule();
    }
    const row = await exec<{ mine: boolean; live: boolean | null; unlocked: boolean | null }>(
      s,
      'release',
      sql.release,
      [s.marker, key, owner, channel, g ? g.id : null],
    );
    if (g && row.unlocked !== true) s.end('an unlock found no lock to give back');
    return row.live === true;
  }

  const backend: PostgresBackend = {
    ...base.describe({
      exclusion: 'strict',
      fencing: true,
      deadHolder: 'with-session',
      frozenHolder: 'at-ttl',
      releaseNotifications: true,
    }),

    async acquire({ key, owner, ttl }: AcquireRequest): Promise<AcquireResult> {
      base.ensureOpen();
      storable(key, 'key');
      storable(owner, 'owner');
      return serial(grantKey(key, owner), () => acquireOnce(key, owner, ttl));
    },

    async extend(request: ExtendRequest): Promise<boolean> {
      const [ok] = await backend.extendMany([request]);
      return ok === true;
    },

    async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
      base.ensureOpen();
      const { unique, slot } = uniquePairs(requests);
      await base.ready();
      if (unique.length === 0) return [];
      const t = now();
      for (const r of unique) {
        const g = grants.get(grantKey(r.key, r.owner));
        if (g) g.expiresAt = Math.max(g.expiresAt, t + r.ttl);
      }
      // Behind a pooler no grant of this backend can be trusted: none is still held.
      if (unusable) return slot.map(() => false);
      const s = await session();
      let held: Set<number>;
      try {
        const row = await exec<{ mine: boolean; held: string[] }>(s, 'extend', sql.extend, [
          s.marker,
          unique.map((r) => r.key),
          unique.map((r) => r.owner),
          unique.map((r) => r.ttl),
        ]);
        held = new Set(row.held.map(Number));
      } catch (error) {
        // The session has ended (or was never ours): every grant made on it is dead, whatever the rows say.
        if (!s.dead) throw error;
        held = new Set();
      }
      unique.forEach((r, i) => {
        const k = grantKey(r.key, r.owner);
        const g = grants.get(k);
        if (g && !held.has(i + 1) && !pending.has(k)) drop(g);
      });
      return slot.map((position) => held.has(position));
    },

    async release({ key, owner }: ReleaseRequest): Promise<boolean> {
      base.ensureOpen();
      storable(key, 'key');
      storable(owner, 'owner');
      return serial(grantKey(key, owner), () => releaseOnce(key, owner));
    },

    ...readOperations(base, BY_SESSION_SNAPSHOT),

    async subscribe(key: string, listener: () => void) {
      base.ensureOpen();
      return base.listener!.subscribe(key, listener);
    },

    async close(): Promise<void> {
      if (!base.markClosed()) return;
      clearTimeout(sweepTimer);
      const s = live;
      const had = grants.size > 0;
      grants.clear();
      if (s && !s.dead && had) {
        // Delete our rows and announce them, so waiters elsewhere wake now; ending the session frees them anyway.
        await exec(s, 'close', sql.close, [s.marker, channel]).catch(() => {});
      }
      s?.end('the backend was closed');
      await current?.then(
        (opened) => opened.end('the backend was closed'),
        () => {},
      );
      await base.finish();
    },
  };
  return backend;
}
