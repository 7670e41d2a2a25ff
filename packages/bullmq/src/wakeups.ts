import type { Unsubscribe } from '@oncelock/core/backend';
import type { Job } from 'bullmq';
import { claim } from './claims.js';
import type { Policy } from './options.js';

/** A put-back job on its way to delayed: tell it when it is delayed, or that it never will be. */
export interface Parking {
  delayed(delayMs: number): void;
  cancel(): void;
}

interface Parked {
  readonly job: Job;
  /** Set once the job is delayed; until then a wake-up only marks it `woken`. */
  delayed: boolean;
  /** A permit freed before the job was delayed: promote it as soon as it is. */
  woken: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

/** The parked jobs of one key, oldest first, and the key's one subscription. */
interface Watch {
  readonly jobs: Map<string, Parked>;
  readonly subscribed: Promise<Unsubscribe>;
  /** Joins in flight, which need the subscription although they have parked nothing yet. */
  joining: number;
}

type LimitPolicy = Pick<Policy<unknown, string>, 'backend' | 'ttl' | 'limit'>;

/**
 * Starts the jobs of one processor that were put back over a key's limit when a permit of the
 * key frees, rather than after `retryDelay`. While it has such jobs, the processor listens to the
 * key's release notifications (one subscription per key), and each notification promotes the
 * oldest of them. `retryDelay` stays the fallback for a lost notification and for a backend
 * without notifications.
 *
 * A put-back job also joins the key's waiters with its refused acquire, so that a store that
 * wakes one waiter per release (Redis) wakes a process that has put-back jobs; a store that tells
 * every listener (PostgreSQL, memory) wakes each such process, and each promotes one job: the
 * jobs that find the key full again are put back again.
 */
export class Wakeups {
  readonly #policy: LimitPolicy;
  readonly #watches = new Map<string, Watch>();

  constructor(policy: LimitPolicy) {
    this.#policy = policy;
  }

  /**
   * Listens for `key`'s releases on the job's behalf and tries once more as a waiter. `'free'`:
   * that try was granted (the permit is the job's, by its id, so taking it again is
   * re-entrant). `undefined`: the backend sends no notifications.
   */
  async join(key: string, job: Job): Promise<Parking | 'free' | undefined> {
    const { backend, ttl, limit } = this.#policy;
    if (!backend.subscribe) return undefined;
    const watch = this.#watch(key, backend.subscribe.bind(backend));
    const id = job.id as string;
    const parked: Parked = { job, delayed: false, woken: false };
    watch.joining++;
    try {
      // Subscribed before the try, so that a release right after it is not missed. Without a
      // subscription the job is put back all the same, to come back after retryDelay.
      const live = await watch.subscribed.then(
        () => true,
        () => false,
      );
      if (!live) return undefined;
      const tried = await claim(this.#policy, key, id, ttl, { limit, waiting: true });
      if (tried.granted) return 'free';
      watch.jobs.set(id, parked);
    } finally {
      watch.joining--;
      this.#unwatchIfIdle(key, watch);
    }
    return {
      delayed: (delayMs) => {
        if (parked.woken) return void promote(job);
        parked.delayed = true;
        // Once its delay is over BullMQ starts the job itself: nothing is left to wake.
        parked.timer = setTimeout(() => this.forget(key, id), delayMs);
        parked.timer.unref?.();
      },
      cancel: () => this.forget(key, id),
    };
  }

  /** Stops listening on behalf of the job `id` (it starts now, or will not be delayed). */
  forget(key: string, id: string): void {
    const watch = this.#watches.get(key);
    const parked = watch?.jobs.get(id);
    if (!watch || !parked) return;
    watch.jobs.delete(id);
    clearTimeout(parked.timer);
    this.#unwatchIfIdle(key, watch);
  }

  #watch(key: string, subscribe: NonNullable<LimitPolicy['backend']['subscribe']>): Watch {
    let watch = this.#watches.get(key);
    if (!watch) {
      const subscribed = subscribe(key, () => void this.#wake(key));
      const made: Watch = { jobs: new Map(), subscribed, joining: 0 };
      // A failed subscription is made again by the next join.
      subscribed.catch(() => this.#watches.get(key) === made && this.#watches.delete(key));
      watch = made;
      this.#watches.set(key, watch);
    }
    return watch;
  }

  #unwatchIfIdle(key: string, watch: Watch): void {
    if (watch.jobs.size > 0 || watch.joining > 0 || this.#watches.get(key) !== watch) return;
    this.#watches.delete(key);
    // A failed subscription has nothing to stop: its joins threw already.
    watch.subscribed.then(
      (unsubscribe) => unsubscribe(),
      () => {},
    );
  }

  /** A permit of `key` freed: the oldest parked job that is still delayed starts now. */
  async #wake(key: string): Promise<void> {
    const watch = this.#watches.get(key);
    for (const [id, parked] of watch?.jobs ?? []) {
      this.forget(key, id);
      if (!parked.delayed) {
        parked.woken = true; // its put-back promotes it once it is delayed
        return;
      }
      // A job no longer delayed (BullMQ started it already) takes no permit: try the next.
      if (await promote(parked.job)) return;
    }
  }
}

function promote(job: Job): Promise<boolean> {
  return job.promote().then(
    () => true,
    () => false,
  );
}
