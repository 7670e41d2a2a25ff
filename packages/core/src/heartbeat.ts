import { requestOf } from './acquire.js';
import { now } from './clock.js';
import type { ExtendRequest, LockBackend } from './contract.js';
import type { LostCause } from './events.js';
import { SlotList, type Slotted } from './slot-list.js';

/** What the heartbeat needs from a lease; implemented by the lease handle. */
export interface Beating extends Slotted {
  readonly key: string;
  readonly token: string;
  /** The TTL each extension asks for. */
  readonly ttl: number;
  /** The limit of a permit; undefined for a plain lease. */
  readonly permitOf: number | undefined;
  /** False: the loop only watches the lease's local validity and never extends it. */
  readonly autoExtend: boolean;
  /** Monotonic time the last successful grant or extension was requested. */
  readonly renewedAt: number;
  /** Monotonic time after which the lease no longer trusts itself. */
  readonly expiresLocallyAt: number;
  /** Called with the monotonic time the successful extension was requested. */
  onExtended(requestedAt: number): void;
  /** The store said it is no longer ours, or local validity ran out first. */
  onLost(cause: LostCause): void;
}

/** Largest batch sent in one `extendMany` call: 10,000 leases take two round trips. */
const BATCH = 5000;

/**
 * One loop per backend object watches every live lease of that backend and extends those
 * with auto-extension: one timer, batched round trips. A lease is extended once a sixth of its TTL has passed if the
 * loop is awake anyway, and at a third at the latest, so leases of one TTL fall into step and
 * share a batch. A failed extension retries; the lease gives up (fires its signal) at the end
 * of its local validity. No callback of this loop can throw.
 */
export class Heartbeat {
  readonly #backend: LockBackend;
  readonly #leases = new SlotList<Beating>();
  readonly #inFlight = new Set<Beating>();
  readonly #retryAt = new Map<Beating, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(backend: LockBackend) {
    this.#backend = backend;
  }

  /**
   * Ends every lease this loop watches (their signals fire with `cause`) and returns them, so
   * that whoever closes the backend can release them in the store.
   */
  endAll(cause: LostCause): Beating[] {
    const ended = this.#leases.snapshot();
    for (const lease of ended) {
      this.delete(lease);
      lease.onLost(cause);
    }
    this.#clear();
    return ended;
  }

  add(lease: Beating): void {
    this.#leases.add(lease);
    // Only the new lease can move the wake-up earlier: no scan of the others (taking n leases stays linear).
    const next = Math.min(lease.expiresLocallyAt, this.#dueAt(lease));
    if (this.#timer && next >= this.#timerAt - 1) return;
    this.#arm(next);
  }

  delete(lease: Beating): void {
    this.#leases.delete(lease);
    // Both are empty but while an extension is under way or retried: the common release skips them.
    if (this.#inFlight.size > 0) this.#inFlight.delete(lease);
    if (this.#retryAt.size > 0) this.#retryAt.delete(lease);
    // The timer stays armed when the last lease goes: it fires once for nothing (it is unref'd),
    // where clearing it would make a caller that takes and releases leases in a loop pay for a
    // new timer every time.
  }

  #dueAt(lease: Beating): number {
    if (!lease.autoExtend) return Number.POSITIVE_INFINITY;
    return this.#retried(lease) ?? lease.renewedAt + lease.ttl / 3;
  }

  /** When a failed extension of `lease` is tried again; mostly there is none, and nothing is looked up. */
  #retried(lease: Beating): number | undefined {
    return this.#retryAt.size > 0 ? this.#retryAt.get(lease) : undefined;
  }

  #isDue(lease: Beating, t: number): boolean {
    if (!lease.autoExtend || this.#inFlight.has(lease)) return false;
    return (this.#retried(lease) ?? lease.renewedAt + lease.ttl / 6) <= t;
  }

  #schedule(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const lease of this.#leases) {
      next = Math.min(next, lease.expiresLocallyAt, this.#inFlight.has(lease) ? next : this.#dueAt(lease));
    }
    if (next >= this.#timerAt - 1 && this.#timer) return;
    this.#arm(next);
  }

  #arm(next: number): void {
    this.#clear();
    if (next === Number.POSITIVE_INFINITY) return;
    this.#timerAt = next;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, next - now()));
    // A held lease alone does not keep the process alive; the work it protects does.
    this.#timer.unref?.();
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    try {
      const t = now();
      const due: Beating[] = [];
      for (const lease of this.#leases.snapshot()) {
        if (t >= lease.expiresLocallyAt) {
          this.delete(lease);
          lease.onLost('expired');
        } else if (this.#isDue(lease, t)) {
          due.push(lease);
        }
      }
      for (let i = 0; i < due.length; i += BATCH) this.#send(due.slice(i, i + BATCH), t);
    } finally {
      this.#schedule();
    }
  }

  #send(batch: Beating[], requestedAt: number): void {
    for (const lease of batch) this.#inFlight.add(lease);
    const requests: ExtendRequest[] = batch.map((l) => requestOf(l.key, l.token, l.ttl, l.permitOf));
    const backend = this.#backend;
    const sent = backend.extendMany
      ? backend.extendMany(requests)
      : Promise.all(requests.map((r) => backend.extend(r)));
    sent
      .then(
        (results) => {
          batch.forEach((lease, i) => {
            if (!this.#leases.has(lease)) return;
            this.#inFlight.delete(lease);
            this.#retryAt.delete(lease);
            if (results[i] === true) lease.onExtended(requestedAt);
            else {
              this.delete(lease);
              lease.onLost('not-held');
            }
          });
        },
        () => {
          // The store did not answer: try again soon; the lease's local validity bounds the retries.
          for (const lease of batch) {
            if (!this.#leases.has(lease)) continue;
            this.#inFlight.delete(lease);
            this.#retryAt.set(lease, now() + Math.max(10, Math.min(lease.ttl / 10, 1000)));
          }
        },
      )
      .catch(() => {})
      .finally(() => this.#schedule());
  }
}

const loops = new WeakMap<LockBackend, Heartbeat>();

/** The leases of `backend` still held, ended with `cause`; none if no lease was ever taken on it. */
export function endLeases(backend: LockBackend, cause: LostCause): Beating[] {
  return loops.get(backend)?.endAll(cause) ?? [];
}

/** The heartbeat loop of `backend`, made on first use. */
export function heartbeatOf(backend: LockBackend): Heartbeat {
  let loop = loops.get(backend);
  if (!loop) {
    loop = new Heartbeat(backend);
    loops.set(backend, loop);
  }
  return loop;
}
