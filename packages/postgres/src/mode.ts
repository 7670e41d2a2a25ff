import type {
  AcquireRequest,
  AcquireResult,
  ExtendRequest,
  Guarantees,
  ReleaseRequest,
} from '@oncelock/core/backend';
import type { Db } from './db.js';
import type { ParsedOptions } from './options.js';
import type { Liveness } from './sql/rows.js';
import type { Waiters } from './waiters.js';

/** What `postgresBackend` shares with either mode. */
export interface Shared {
  readonly db: Db;
  readonly options: ParsedOptions;
  /** The NOTIFY channel releases are announced on. */
  readonly channel: string;
  /** Resolves once the schema exists (created on first use unless `migrate: false`). */
  ready(): Promise<void>;
  /** The key's waiters: what a waiting acquire names, and wake-ups passed on. */
  readonly waiters: Waiters;
  /**
   * Raises the fence ceiling, in a transaction of its own: an acquire that found no fence below
   * it (`no_fence`) runs this and asks again (see sql/fences.ts).
   */
  advanceFences(): Promise<void>;
}

/** What sets one mode apart: how it writes grants, and how its statements tell a live row. */
export interface Mode {
  /** The backend's name in errors and events. */
  readonly name: string;
  readonly deadHolder: Guarantees['deadHolder'];
  readonly liveness: Liveness;
  /** How a statement that decides on one key's grant (a state save) tells a live row, when it looks. */
  readonly deciding: Liveness;
  readonly ops: {
    acquire(request: AcquireRequest): Promise<AcquireResult>;
    extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]>;
    release(request: ReleaseRequest): Promise<boolean>;
  };
  /** Frees what the mode holds of its own; the pool and the LISTEN connection are closed after it. */
  close(): Promise<void>;
}
