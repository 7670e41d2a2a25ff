import { restartRedis } from '@oncelock/testkit/faults';
import { type RedisServer, startRedisCluster, startRedisServer } from '@oncelock/testkit/servers';
import { cleanup, guaranteesOf, type Lab, proxiesFor } from './lab.js';

// Redis-family labs: every store is a redis-server of the lab's own on a free loopback port,
// never the shared one on 6379, since the lab restarts them and cuts their connections.

const TIMEOUT = 1000;

/**
 * One primary (`redis`) or Keyv over one primary (`keyv`). The counter lives on a second server,
 * so that restarting the lock server (every lock and fence record lost) leaves it intact.
 */
export async function singleServerLab(kind: 'redis' | 'keyv', workers: number): Promise<Lab> {
  const [locks, counters] = await Promise.all([startRedisServer(), startRedisServer()]);
  const proxies = await proxiesFor(workers, [locks.port, counters.port]);
  const spec = (url: string) =>
    kind === 'redis' ? { kind, url, timeout: TIMEOUT } : { kind, redisUrl: url, timeout: TIMEOUT };
  return {
    kind,
    guarantees: await guaranteesOf(spec(locks.url)),
    slots: proxies.map(([lock, counter]) => ({
      proxies: [lock!, counter!],
      backend: spec(lock!.url('redis')),
      counter: { kind: 'redis', url: counter!.url('redis') },
    })),
    direct: { backend: spec(locks.url), counter: { kind: 'redis', url: counters.url } },
    serverFaults: { 'restart-lock-server': () => restartRedis(locks).then(() => true) },
    stop: () => cleanup([...proxies.flat().map((p) => () => p.close()), locks.stop, counters.stop]),
  };
}

/** Three independent primaries for Redlock; a fault restarts one of them, losing its keys. */
export async function redlockLab(workers: number): Promise<Lab> {
  const nodes = await Promise.all([startRedisServer(), startRedisServer(), startRedisServer()]);
  const counters = await startRedisServer();
  const proxies = await proxiesFor(workers, [...nodes.map((n) => n.port), counters.port]);
  const spec = (urls: string[]) => ({ kind: 'redlock' as const, urls, timeout: TIMEOUT });
  return {
    kind: 'redlock',
    guarantees: await guaranteesOf(spec(nodes.map((n) => n.url))),
    slots: proxies.map((ps) => ({
      proxies: ps,
      backend: spec(ps.slice(0, 3).map((p) => p.url('redis'))),
      counter: { kind: 'redis', url: ps[3]!.url('redis') },
    })),
    direct: { backend: spec(nodes.map((n) => n.url)), counter: { kind: 'redis', url: counters.url } },
    // A minority restart without persistence: the hazard the Redlock write-up says to delay restarts for.
    serverFaults: {
      'restart-one-node': (slot) => restartRedis(nodes[slot % nodes.length] as RedisServer).then(() => true),
    },
    stop: () =>
      cleanup([...proxies.flat().map((p) => () => p.close()), ...nodes.map((n) => n.stop), counters.stop]),
  };
}

/**
 * A three-primary Redis Cluster. Its nodes announce their own ports, so each worker's client gets
 * a NAT map that sends it to its own proxies instead: the cluster stays whole, the worker can be cut off.
 */
export async function clusterLab(workers: number): Promise<Lab> {
  const cluster = await startRedisCluster({ primaries: 3 });
  const counters = await startRedisServer();
  const ports = cluster.nodes.map((n) => n.port);
  const proxies = await proxiesFor(workers, [...ports, counters.port]);
  const spec = (
    nodes: Array<{ host: string; port: number }>,
    natMap?: Record<string, { host: string; port: number }>,
  ) => ({
    kind: 'redis-cluster' as const,
    nodes,
    natMap,
    timeout: TIMEOUT,
  });
  return {
    kind: 'redis-cluster',
    guarantees: await guaranteesOf(spec([...cluster.nodes])),
    slots: proxies.map((ps) => {
      const via = ps.slice(0, 3).map((p) => ({ host: '127.0.0.1', port: p.port }));
      const natMap = Object.fromEntries(ports.map((port, i) => [`127.0.0.1:${port}`, via[i]!]));
      return {
        proxies: ps,
        backend: spec(via, natMap),
        counter: { kind: 'redis', url: ps[3]!.url('redis') },
      };
    }),
    direct: { backend: spec([...cluster.nodes]), counter: { kind: 'redis', url: counters.url } },
    serverFaults: {},
    stop: () => cleanup([...proxies.flat().map((p) => () => p.close()), cluster.stop, counters.stop]),
  };
}

/** A negative control: a broken lock (no server), with the counters on a server of their own. */
export async function controlLab(
  kind: 'control-no-lock' | 'control-one-fence',
  workers: number,
): Promise<Lab> {
  const counters = await startRedisServer();
  const proxies = await proxiesFor(workers, [counters.port]);
  const backend = {
    kind: 'broken' as const,
    flaw: kind === 'control-no-lock' ? ('no-lock' as const) : ('one-fence' as const),
  };
  return {
    kind,
    guarantees: await guaranteesOf(backend),
    slots: proxies.map(([counter]) => ({
      proxies: [counter!],
      backend,
      counter: { kind: 'redis', url: counter!.url('redis') },
    })),
    direct: { backend, counter: { kind: 'redis', url: counters.url } },
    serverFaults: {},
    stop: () => cleanup([...proxies.flat().map((p) => () => p.close()), counters.stop]),
  };
}
