export {
  type Chaos,
  type ChaosFault,
  type ChaosOptions,
  type ChaosSummary,
  seededRandom,
  startChaos,
} from './chaos.js';
export * from './holder.js';
export { isLoopbackHost } from './loopback.js';
export { type TerminatePgBackendsOptions, terminatePgBackends } from './postgres.js';
export {
  spawnWorker,
  stopAllWorkers,
  type Worker,
  type WorkerExit,
  type WorkerOptions,
} from './processes.js';
export {
  killRedisClients,
  type RedisClientFilter,
  type RedisClientInfo,
  type RestartRedisOptions,
  restartRedis,
} from './redis.js';
export { startTcpProxy, type TcpProxy, type TcpProxyOptions } from './tcp-proxy.js';
