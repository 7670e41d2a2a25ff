import {
  type AcquireRequest,
  type AcquireResult,
  type At,
  defineBackend,
  describeValue,
  type ExtendRequest,
  exactlyOne,
  type Holder,
  invalid,
  type LockBackend,
  type Option,
  readOptions,
  unavailable,
} from '@oncelock/core/backend';
import type { Redis, RedisOptions } from 'ioredis';
import { lockCommands } from './commands.js';
import { type Client, connection } from './connection.js';
import { keySpace } from './keys.js';
import {
  type CommonOptions,
  commonOptions,
  ioredisClient,
  ioredisOptions,
  listOf,
  newRedis,
  PKG,
  redisUrl,
  withoutKeyPrefix,
} from './options.js';
import { firstVerdict, largestGroup, majorityHolder, type Outcome, outcome, quorumOf } from './quorum.js';
import type { NodeAcquire } from './replies.js';

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

const primaries = (what: string) =>
  `an array of 3 or more ${what}, one per independent primary (for one primary use redisBackend(), which also gives fences)`;

const spec = {
  ...commonOptions,
  driftFactor: {
    expects: 'a number from 0 to below 0.5',
    read(value, name, at) {
      if (value === undefined) return 0.01;
      if (typeof value === 'number' && value >= 0 && value < 0.5) return value;
      throw invalid(at, `${name} must be ${this.expects}, got ${describeValue(value)}`);
    },
  } satisfies Option<number>,
  urls: listOf(primaries('URLs'), 3, redisUrl.required()),
  redis: ioredisOptions<RedisOptions>(),
  clients: listOf(primaries('ioredis clients'), 3, ioredisClient.required()),
};

/** A {@link LockBackend} with batched extension and listing (no notifications: waiters poll). */
export type RedlockBackend = LockBackend & Required<Pick<LockBackend, 'extendMany' | 'list'>>;

/**
 * The Redlock algorithm over several independent Redis primaries: a lock is held while a
 * majority of them hold it. It survives the loss of a minority of nodes, but it gives no
 * fences and its safety rests on bounded clock drift and process pauses (see the README).
 *
 * @param options - Exactly one of `urls` or `clients` (3 or more independent primaries), and
 *   optionally `driftFactor` (default 0.01), `prefix` (default `oncelock:`), `timeout`
 *   (milliseconds per operation, default 2000) and `fenceRetention`.
 */
export function redlockBackend(options: RedlockBackendOptions): RedlockBackend {
  const at = { pkg: PKG, call: 'redlockBackend()' };
  const o = readOptions(options, spec, at, true);
  const given = exactlyOne(o, ['urls', 'clients'], at) as 'urls' | 'clients';
  const list: unknown[] = o[given]!;
  if (new Set(list).size !== list.length) throw invalid(at, `${given} holds the same primary twice`);
  const { driftFactor, timeout } = o;
  const driftOf = (ttl: number) => Math.floor(ttl * driftFactor) + 2;
  const clients = o.urls
    ? o.urls.map((u) => newRedis(u, o.redis))
    : o.clients!.map((c, i) => primary(c, `clients[${i}]`, at));
  // Each connection bounds its own commands: a frozen node's answer fails on time, and the
  // quorum is decided without it.
  const conns = clients.map((c) => connection(c, o.clients === undefined, timeout));
  const keys = keySpace(o.prefix);
  const nodes = conns.map((c) => lockCommands(c, keys, { retention: o.fenceRetention }));
  const n = nodes.length;
  const quorum = quorumOf(n);
  const where = { backend: 'redlock', pkg: PKG };

  function noQuorum(answers: ReadonlyArray<Outcome<unknown>>, what: string) {
    const errors = answers.flatMap((a) => (a.ok ? [] : [a.error]));
    const why = `${errors.length} of ${n} nodes failed, so a majority (${quorum}) cannot answer`;
    return unavailable(where, what, new AggregateError(errors, why));
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
    if ('failed' in verdict) throw noQuorum(seen, what);
    return { verdict: verdict.value, settled: seen };
  }

  const ask = <T>(op: (node: (typeof nodes)[number]) => Promise<T>) => nodes.map((node) => outcome(op(node)));

  /** true once a majority said yes, false once a majority no longer can. */
  const yes = (count: number, pending: number) =>
    count >= quorum ? true : count + pending < quorum ? false : undefined;

  async function acquire(request: AcquireRequest): Promise<AcquireResult> {
    const { key, owner, ttl } = request;
    const started = performance.now();
    const calls = ask((node) => node.acquire(request));
    // Undoes every grant this call made, on each node as soon as it answers, so that a minority
    // of stray locks does not block the next contender until their TTL. A node that failed may
    // have applied the command before failing, so it is undone too; a re-entry is left alone.
    const undo = () =>
      nodes.forEach((node, i) => {
        void calls[i]!.then((a) => {
          if (a.ok && (!a.value.granted || a.value.renewed)) return;
          node.release({ key, owner }).catch(() => {});
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
      ask((node) => node.extendMany(requests)),
      'extend',
      (values, pending) => {
        const out = requests.map((_, i) => yes(values.filter((v) => v[i] === true).length, pending));
        return out.every((r) => r !== undefined) ? (out as boolean[]) : undefined;
      },
    );
    return verdict;
  }

  return defineBackend({
    name: 'redlock',
    pkg: PKG,
    guarantees: {
      exclusion: 'quorum',
      fencing: false,
      deadHolder: 'at-ttl',
      frozenHolder: 'at-ttl',
      releaseNotifications: false,
    },
    ops: {
      acquire,
      extendMany,
      async release(request) {
        const calls = ask((node) => node.release(request));
        return (
          await decide(calls, 'release', (values, pending) => yes(values.filter(Boolean).length, pending))
        ).verdict;
      },
      async inspect(key) {
        const calls = ask((node) => node.inspect(key));
        const { verdict } = await decide(calls, 'inspect', (values, pending) => {
          const held = values.filter((h): h is Holder => h !== null);
          const holder = majorityHolder(held, quorum);
          if (holder) return holder;
          // No owner can reach a majority any more, even if every node still to answer agreed.
          return largestGroup(held).length + pending < quorum ? null : undefined;
        });
        return verdict;
      },
      async list(prefix) {
        const calls = ask((node) => node.list(prefix));
        const { verdict: lists } = await decide(calls, 'list', (values, pending) =>
          pending === 0 ? values : undefined,
        );
        const byKey = new Map<string, Holder[]>();
        for (const entry of lists.flat()) byKey.set(entry.key, [...(byKey.get(entry.key) ?? []), entry]);
        return [...byKey].flatMap(([key, views]) => {
          const h = majorityHolder(views, quorum);
          return h ? [{ key, ...h }] : [];
        });
      },
    },
    async close() {
      await Promise.all(conns.map((c) => c.close()));
    },
  });
}

/** A user's client as one Redlock node: a client of one primary, without a keyPrefix. */
function primary(client: Client, name: string, at: At): Client {
  if ((client as { isCluster?: boolean }).isCluster) {
    throw invalid(at, `${name} is a Cluster; Redlock needs independent primaries`);
  }
  return withoutKeyPrefix(client, name, at);
}
