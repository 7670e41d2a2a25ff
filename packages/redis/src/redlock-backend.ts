import {
  type AcquireRequest,
  type AcquireResult,
  BackendUnavailableError,
  type ExtendRequest,
  type Holder,
  InvalidArgumentError,
  type LockBackend,
} from '@oncelock/core';
import type { Redis, RedisOptions } from 'ioredis';
import { type Client, connection } from './connection.js';
import { guard } from './guard.js';
import { keySpace } from './keys.js';
import {
  type CommonOptions,
  checkClient,
  checkOptions,
  checkUrl,
  commonOptions,
  newRedis,
} from './options.js';
import { firstVerdict, largestGroup, majorityHolder, type Outcome, outcome, quorumOf } from './quorum.js';
import type { NodeAcquire } from './replies.js';
import { createStore } from './store.js';
import { PKG } from './where.js';

/** Options of {@link redlockBackend}: the independent primaries (URLs or clients) and the shared options. */
export type RedlockBackendOptions = CommonOptions & {
  /**
   * How much of a TTL to give up for clock drift between the nodes and us: a grant counts only
   * if it arrived within `ttl - ttl * driftFactor - 2` ms of the request. Default 0.01.
   */
  driftFactor?: number;
} & (
    | {
        /** One URL per independent primary (not replicas of each other, not a Cluster). At least 3. */
        urls: string[];
        /** Passed straight to each `new Redis(url, options)`: TLS, auth, timeouts... */
        redis?: RedisOptions;
      }
    | {
        /** One ioredis client per independent primary. `close()` leaves them open. */
        clients: Redis[];
      }
  );

/** A {@link LockBackend} with batched extension and listing (no notifications: waiters poll). */
export type RedlockBackend = LockBackend & Required<Pick<LockBackend, 'extendMany' | 'list'>>;

/**
 * The Redlock algorithm over several independent Redis primaries: a lock is held while a
 * majority of them hold it. It survives the loss of a minority of nodes, but it gives no
 * fences and its safety rests on bounded clock drift and process pauses (see the README).
 */
export function redlockBackend(options: RedlockBackendOptions): RedlockBackend {
  const o = checkOptions(options, 'redlockBackend');
  const common = commonOptions(o);
  const driftFactor = o.driftFactor ?? 0.01;
  if (typeof driftFactor !== 'number' || !(driftFactor >= 0 && driftFactor < 0.5)) {
    throw new InvalidArgumentError(
      `driftFactor must be a number from 0 to below 0.5, got ${String(driftFactor)}`,
      {
        pkg: PKG,
      },
    );
  }
  const driftOf = (ttl: number) => Math.floor(ttl * driftFactor) + 2;
  const clients = nodesOf(o, common.timeout);
  const owned = o.clients === undefined;
  const conns = clients.map((c) => connection(c, owned, common.timeout));
  const keys = keySpace(common.prefix);
  const stores = conns.map((c) => createStore(c, keys, { retention: common.fenceRetention }));
  const n = stores.length;
  const quorum = quorumOf(n);
  let closing: Promise<void> | undefined;
  const run = guard('redlock', () => closing !== undefined);

  function unavailable(answers: ReadonlyArray<Outcome<unknown>>, what: string): BackendUnavailableError {
    const errors = answers.flatMap((a) => (a.ok ? [] : [a.error]));
    return new BackendUnavailableError(
      `${what}: ${errors.length} of ${n} nodes failed, so a majority (${quorum}) cannot answer`,
      { backend: 'redlock', pkg: PKG, cause: new AggregateError(errors, 'node errors') },
    );
  }

  /**
   * Resolves as soon as the answers so far settle the question: `tally` sees the values of the
   * nodes that answered and how many are still to answer, and must decide once none are. Rejects
   * as soon as so many nodes failed that no majority can answer: then neither yes nor no can be
   * trusted. A frozen or slow node holds nothing up once the majority has spoken.
   */
  async function decide<T, V>(
    calls: ReadonlyArray<Promise<Outcome<T>>>,
    what: string,
    tally: (values: T[], pending: number) => V | undefined,
  ): Promise<{ verdict: V; settled: ReadonlyArray<Outcome<T>> }> {
    let seen: ReadonlyArray<Outcome<T>> = [];
    const verdict = await firstVerdict<T, { failed: true } | { value: V }>(calls, (settled, pending) => {
      seen = settled;
      if (settled.filter((a) => !a.ok).length > n - quorum) return { failed: true };
      const value = tally(
        settled.flatMap((a) => (a.ok ? [a.value] : [])),
        pending,
      );
      return value === undefined ? undefined : { value };
    });
    if ('failed' in verdict) throw unavailable(seen, what);
    return { verdict: verdict.value, settled: seen };
  }

  const ask = <T>(op: (store: (typeof stores)[number]) => Promise<T>) => stores.map((s) => outcome(op(s)));

  /** true once a majority said yes, false once a majority no longer can. */
  const yes = (count: number, pending: number) =>
    count >= quorum ? true : count + pending < quorum ? false : undefined;

  async function acquire(request: AcquireRequest): Promise<AcquireResult> {
    const { key, owner, ttl } = request;
    const started = performance.now();
    const calls = ask((s) => s.acquire(request));
    // Undoes every grant this call made, on each node as soon as it answers, so that a minority
    // of stray locks does not block the next contender until their TTL. A node that failed may
    // have applied the command before failing, so it is undone too; a re-entry is left alone.
    const undo = () =>
      stores.forEach((store, i) => {
        void calls[i]!.then((a) => {
          if (a.ok && (!a.value.granted || a.value.renewed)) return;
          store.release({ key, owner }).catch(() => {});
        });
      });
    let decided: { verdict: boolean; settled: ReadonlyArray<Outcome<NodeAcquire>> };
    try {
      decided = await decide(calls, 'acquire', (values, pending) =>
        yes(values.filter((v) => v.granted).length, pending),
      );
    } catch (error) {
      undo();
      throw error;
    }
    // A grant that took most of its TTL to gather may be about to expire on some nodes.
    if (decided.verdict && performance.now() - started < ttl - driftOf(ttl)) return { granted: true };
    undo();
    const refusals = decided.settled.flatMap((a) => (a.ok && !a.value.granted ? [a.value.holder] : []));
    const holder = majorityHolder(refusals, 1);
    return holder ? { granted: false, holder } : { granted: false };
  }

  async function extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    if (requests.length === 0) return [];
    const { verdict } = await decide(
      ask((s) => s.extendMany(requests)),
      'extend',
      (values, pending) => {
        const out = requests.map((_, i) => yes(values.filter((v) => v[i] === true).length, pending));
        return out.every((r) => r !== undefined) ? (out as boolean[]) : undefined;
      },
    );
    return verdict;
  }

  return {
    name: 'redlock',
    pkg: PKG,
    guarantees: {
      exclusion: 'quorum',
      fencing: false,
      deadHolder: 'at-ttl',
      frozenHolder: 'at-ttl',
      releaseNotifications: false,
    },
    acquire: (request) => run('acquire', () => acquire(request)),
    extend: (request) => run('extend', async () => (await extendMany([request]))[0] === true),
    extendMany: (requests) => run('extendMany', () => extendMany(requests)),
    release: (request) =>
      run('release', async () => {
        const calls = ask((s) => s.release(request));
        return (
          await decide(calls, 'release', (values, pending) => yes(values.filter(Boolean).length, pending))
        ).verdict;
      }),
    inspect: (key) =>
      run('inspect', async () => {
        const calls = ask((s) => s.inspect(key));
        const { verdict } = await decide(calls, 'inspect', (values, pending) => {
          const held = values.filter((h): h is Holder => h !== null);
          const holder = majorityHolder(held, quorum);
          if (holder) return holder;
          // No owner can reach a majority any more, even if every node still to answer agreed.
          return largestGroup(held).length + pending < quorum ? null : undefined;
        });
        return verdict;
      }),
    list: (prefix = '') =>
      run('list', async () => {
        const calls = ask((s) => s.list(prefix));
        const { verdict: lists } = await decide(calls, 'list', (values, pending) =>
          pending === 0 ? values : undefined,
        );
        const byKey = new Map<string, Holder[]>();
        for (const entry of lists.flat()) byKey.set(entry.key, [...(byKey.get(entry.key) ?? []), entry]);
        return [...byKey].flatMap(([key, views]) => {
          const h = majorityHolder(views, quorum);
          return h ? [{ key, ...h }] : [];
        });
      }),
    close() {
      closing ??= Promise.all(conns.map((c) => c.close())).then(() => {});
      return closing;
    },
  };
}

function nodesOf(o: Record<string, unknown>, timeout: number): Client[] {
  const { urls, clients } = o;
  if ((urls === undefined) === (clients === undefined)) {
    throw new InvalidArgumentError('redlockBackend() takes exactly one of urls or clients', { pkg: PKG });
  }
  const list = urls ?? clients;
  if (!Array.isArray(list) || list.length < 3) {
    throw new InvalidArgumentError(
      `redlockBackend() needs at least 3 independent primaries, got ${Array.isArray(list) ? list.length : typeof list}; for one primary use redisBackend(), which also gives fences`,
      { pkg: PKG },
    );
  }
  if (new Set(list).size !== list.length) {
    throw new InvalidArgumentError('redlockBackend() was given the same node twice', { pkg: PKG });
  }
  if (urls !== undefined) {
    // Check every URL before connecting to any.
    const checked = list.map((u, i) => checkUrl(u, `urls[${i}]`));
    return checked.map((u) => newRedis(u, o.redis, timeout));
  }
  return list.map((c, i) => {
    const client = checkClient(c, `clients[${i}]`);
    if ((client as { isCluster?: boolean }).isCluster) {
      throw new InvalidArgumentError(`clients[${i}] is a Cluster; Redlock needs independent primaries`, {
        pkg: PKG,
      });
    }
    return client;
  });
}
