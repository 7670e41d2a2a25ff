import type { AcquireRequest, ExtendRequest, Holder, ReleaseRequest } from '@oncelock/core/backend';
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import type { Connection } from './connection.js';
import { Handoffs, pairOf } from './handoffs.js';
import type { KeySpace } from './keys.js';
import * as lua from './lua.generated.js';
import { acquireReply, inspectReply, listReply, type NodeAcquire } from './replies.js';
import { runScript } from './run-script.js';

/**
 * The lock operations on one Redis deployment (a primary or a Cluster), one script call each.
 * `redisBackend` serves them as they are; `redlockBackend` sends each to every node.
 */
export interface LockCommands {
  /** A grant handed over at a release (see handoffs.ts) carries `validFrom`. */
  acquire(request: AcquireRequest): Promise<NodeAcquire & { validFrom?: number }>;
  extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]>;
  release(request: ReleaseRequest): Promise<boolean>;
  /** Wakes the next waiter for `key` if the key has room: for a woken backend that no longer waits. */
  passOn(key: string): Promise<void>;
  /** A release took `owner` out of `key`'s waiters to wake it: its grant need not take it out. */
  popped(key: string, owner: string): void;
  /**
   * A release handed `key` to `owner` (see handoffs.ts). True: the owner's waiter here takes it
   * with its next try, so wake it; false: nothing to wake.
   */
  handed(
    key: string,
    owner: string,
    grant: { fence: number; anchor: string; limit: number | undefined },
    listening: boolean,
  ): boolean;
  /**
   * `owner` no longer waits for `key`: takes it out of the key's waiters if it is still among
   * them, so that waiters who give up do not pile up there while the key stays busy.
   */
  leave(key: string, owner: string): void;
  inspect(key: string): Promise<Holder | null>;
  list(keyPrefix?: string): Promise<Array<Holder & { key: string }>>;
}

export interface LockCommandsOptions {
  /** How long a fence record outlives its lock, ms. */
  retention: number;
  /** Wake waiters on release (Redlock does not: its waiters poll). */
  wake?: {
    /** This backend object's id: its waiters join a key's waiters under it. */
    readonly id: string;
    /** Waiters to try per release (see release-5.lua). */
    readonly tries: number;
    /**
     * Whether a release hands what it frees to its first waiter (see release-5.lua): not on a
     * Cluster, where PUBLISH cannot tell whether the waiter's backend heard the hand.
     */
    readonly hand: boolean;
    /** Whether a waiter here subscribed to `key`'s releases as `owner`: only those are handed the key. */
    listens(key: string, owner: string): boolean;
  };
}

const SCAN_COUNT = 1000;

export function lockCommands(conn: Connection, keys: KeySpace, options: LockCommandsOptions): LockCommands {
  const { retention } = options;

  /**
   * One extend-2n call for a group of leases, or one extend-permits-3n call for a group of
   * permits, whose keys all live in one slot (or one server).
   */
  async function extendGroup(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    const permits = requests[0]!.limit !== undefined;
    const k: string[] = [];
    const a: Array<string | number> = [retention];
    for (const r of requests) {
      if (permits) {
        k.push(keys.permits(r.key), keys.grants(r.key), keys.record(r.key));
        a.push(r.owner, r.ttl, r.limit!);
      } else {
        k.push(keys.lock(r.key), keys.record(r.key));
        a.push(r.owner, r.ttl);
      }
    }
    const script = permits ? lua.extendPermits : lua.extend;
    const reply = (await conn.run((c) => runScript(c, script, k, a))) as unknown[];
    return reply.map((x) => x === 1);
  }

  /** The (key, owner) pairs this backend has among some key's waiters, as `key NUL owner`. */
  const queued = new Set<string>();
  const member = (id: string, owner: string) => `${id} ${owner}`;

  /** release-5.lua, of a lease or (with `limit`) a permit; an empty owner only passes a wake-up on. */
  async function release(key: string, owner: string, limit?: number): Promise<boolean> {
    const wake = options.wake;
    const reply = await conn.run((c) =>
      runScript(c, lua.release, keys.family(key), [
        owner,
        retention,
        wake ? keys.wakePrefix : '',
        wake?.tries ?? 0,
        limit ?? '',
        wake?.hand ? 1 : '',
      ]),
    );
    return reply === 1;
  }

  // A hand nobody here takes is released, which hands the key on; if that fails, it ends at its TTL.
  const handoffs = new Handoffs(options.wake?.id ?? '', (key, owner, limit) => {
    release(key, owner, limit).catch(() => {});
  });

  /** The grant handed to the waiting (key, owner), if one arrived: it is no longer among the waiters. */
  function takeHand(key: string, owner: string, limit: number | undefined) {
    const hand = handoffs.take(key, owner, limit);
    if (!hand) return undefined;
    queued.delete(pairOf(key, owner));
    return { granted: true as const, fence: hand.fence, renewed: false, validFrom: hand.validFrom };
  }

  return {
    async acquire({ key, owner, ttl, waiting, limit }) {
      // A waiter whose subscription names it may be handed the key at a release (handoffs.ts),
      // and may have been already: no round trip then.
      const hands = waiting === true && options.wake?.hand === true && options.wake.listens(key, owner);
      const early = hands ? takeHand(key, owner, limit) : undefined;
      if (early) return early;
      const joining = hands ? handoffs.member(key, owner, ttl, limit) : undefined;
      const waiter = joining?.member ?? (!waiting || !options.wake ? '' : member(options.wake.id, owner));
      const queuedAs = waiter === '' ? '' : pairOf(key, owner);
      // A waiter not among the key's waiters (its first try, or one a release took out to wake
      // it) spares its grant a ZREM.
      const among = queuedAs !== '' && queued.has(queuedAs) ? 1 : '';
      // A waiter that moved the waiters' expiry on less than 30 s ago leaves it (a fallback poll's command).
      const fresh = hands && handoffs.fresh(key, owner);
      const sentAt = hands ? performance.now() : 0;
      const reply = await conn.run((c) =>
        runScript(c, lua.acquire, keys.family(key), [
          owner,
          ttl,
          retention,
          waiter,
          limit ?? '',
          among,
          fresh ? 1 : '',
          joining?.replaces ?? '',
        ]),
      );
      if (joining) handoffs.answered(key, owner, joining);
      const result = acquireReply(reply);
      if (result.granted) handoffs.granted(key, owner);
      else if (hands) {
        if (!fresh && (result.limit ?? 1) === (limit ?? 1)) handoffs.refreshed(key, owner, sentAt);
        // Refused, then handed the key: the hand came after this try, and is the newer answer.
        const late = takeHand(key, owner, limit);
        if (late) return late;
      }
      if (queuedAs !== '') {
        // The script put a refused waiter among the key's waiters and took a granted one (or
        // one that asked with another limit) out.
        if (result.granted || (result.limit ?? 1) !== (limit ?? 1)) queued.delete(queuedAs);
        else queued.add(queuedAs);
      }
      return result;
    },

    async extendMany(requests) {
      if (requests.length === 0) return [];
      // The common batch, leases on one server, goes as it is: nothing to group.
      if (!conn.isCluster && requests.every((r) => r.limit === undefined)) return extendGroup(requests);
      // A script may only touch one slot, and leases and permits have a script each: one call
      // per slot and kind, all sent at once, so the batch still costs one round trip to each node.
      const groups = new Map<number, number[]>();
      requests.forEach((r, i) => {
        const slot = conn.isCluster ? calculateSlot(keys.lock(r.key)) : 0;
        const id = r.limit === undefined ? slot : -1 - slot;
        const group = groups.get(id);
        if (group) group.push(i);
        else groups.set(id, [i]);
      });
      if (groups.size === 1) return extendGroup(requests);
      const out = new Array<boolean>(requests.length);
      await Promise.all(
        [...groups.values()].map(async (indexes) => {
          const results = await extendGroup(indexes.map((i) => requests[i]!));
          indexes.forEach((i, j) => {
            out[i] = results[j] === true;
          });
        }),
      );
      return out;
    },

    release: ({ key, owner, limit }) => release(key, owner, limit),

    async passOn(key) {
      await release(key, '');
    },

    popped(key, owner) {
      queued.delete(pairOf(key, owner));
    },

    handed: (key, owner, grant, listening) => handoffs.handed(key, owner, grant, listening),

    leave(key, owner) {
      const stayed = handoffs.left(key, owner);
      if (!options.wake || !queued.delete(pairOf(key, owner))) return;
      const gone = stayed ?? [member(options.wake.id, owner)];
      // Best effort: a member left behind is dropped when a release pops it, or with the set.
      conn.run((c) => c.zrem(keys.waiters(key), ...gone)).catch(() => {});
    },

    async inspect(key) {
      const reply = await conn.run((c) =>
        runScript(c, lua.inspect, [keys.lock(key), keys.permits(key), keys.grants(key)], []),
      );
      return inspectReply(reply);
    },

    async list(keyPrefix = '') {
      const args = [keys.pattern(keyPrefix), SCAN_COUNT];
      const replies = await conn.run(async (client) => {
        if (!conn.isCluster) return [await runScript(client, lua.list, [], args)];
        // A Cluster's keys are spread over its primaries: one call to each, at once. Their list
        // is known once the client has loaded the slot map.
        const cluster = client as Cluster;
        if (cluster.status !== 'ready') await new Promise((resolve) => cluster.once('ready', resolve));
        return Promise.all(cluster.nodes('master').map((node) => runScript(node, lua.list, [], args)));
      });
      return replies.flatMap((r) => listReply(r, keys.keyOf));
    },
  };
}
