/**
 * Where a lock lives in Redis. A key `scan:3` under the prefix `oncelock:` becomes
 *
 *   oncelock:{scan:3}          the lock (a hash: owner, fence, since; PTTL = the lease's TTL)
 *   oncelock:{scan:3}:fence    the fence record, which outlives the lock for a while
 *   oncelock:{scan:3}:waiters  the backends waiting for it (a sorted set), woken one at a time
 *   oncelock:{scan:3}:permits  while it is held by permits: their owners by expiry (a sorted set,
 *                              server clock in ms)
 *   oncelock:{scan:3}:grants   beside it: the limit, and each permit's fence and since (a hash)
 *   oncelock:{scan:3}:state    the value its lease's holder saved (saveState), beside the lock so
 *                              that the save script can check the holder in the same slot
 *   oncelock:rate:{scan:3}     the key's rate state (its GCRA theoretical arrival time), apart
 *                              from the lock: a rate limit and a lock of one name are unrelated
 *   oncelock:wake:<id>         the pub/sub channel of one backend object: a release sends the
 *                              lock's name to the first waiter's channel
 *   oncelock:topic:<topic>     the pub/sub channel of a topic (notify and listen)
 *
 * The braces are a Redis Cluster hash tag: every key of a lock hashes to one slot, so every script
 * touches one slot. Inside the tag, `%`, `{` and `}` are percent-encoded: a user key such as
 * `}x` would otherwise end the tag early (an empty tag hashes the whole name, splitting the keys).
 */
export interface KeySpace {
  /**
   * The five keys of `key` that acquire-5 and release-5 take, in their order: lock, record,
   * waiters, permits, grants (the user key encoded once for all five).
   */
  family(key: string): [lock: string, record: string, waiters: string, permits: string, grants: string];
  /** The lock of `key`: a hash of owner, fence and since; its PTTL is the lease's TTL. */
  lock(key: string): string;
  /** The fence record of `key`: the last fence handed out for it. */
  record(key: string): string;
  /** The backends waiting for `key`: a sorted set, in the order they began to wait. */
  waiters(key: string): string;
  /** The permits of `key`: a sorted set of owners by expiry (ms, server clock). */
  permits(key: string): string;
  /** The grants of `key`'s permits: a hash of limit, fence:<owner> and since:<owner>. */
  grants(key: string): string;
  /** The value saved for `key` by its lease's holder: a hash of value, fence and savedAt. */
  state(key: string): string;
  /** The rate state of `key`: its theoretical arrival time, ms on the server clock. */
  rate(key: string): string;
  /** The pub/sub channel of `topic`. */
  topic(topic: string): string;
  /** The wake-up channel of the backend object with this id. */
  wake(backend: string): string;
  /** What all wake-up channels start with. */
  readonly wakePrefix: string;
  /** SCAN MATCH pattern for every lock whose user key starts with `keyPrefix`. */
  pattern(keyPrefix: string): string;
  /** The user key of a lock key, or `undefined` if `lockKey` is not one of ours. */
  keyOf(lockKey: string): string | undefined;
}

const SPECIAL = /[%{}]/;
const encode = (key: string) =>
  // Most keys have nothing to encode: a test is cheaper than a replace that changes nothing.
  SPECIAL.test(key) ? key.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : key;
const decode = (tag: string) =>
  tag.replace(/%(25|7B|7D)/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
const glob = (text: string) => text.replace(/[\\*?[\]]/g, (c) => `\\${c}`);

/** The keys and channels of the locks under `prefix` (the backends' `prefix` option). */
export function keySpace(prefix: string): KeySpace {
  const lock = (key: string) => `${prefix}{${encode(key)}}`;
  return {
    family(key) {
      const l = lock(key);
      return [l, `${l}:fence`, `${l}:waiters`, `${l}:permits`, `${l}:grants`];
    },
    lock,
    record: (key) => `${lock(key)}:fence`,
    waiters: (key) => `${lock(key)}:waiters`,
    permits: (key) => `${lock(key)}:permits`,
    grants: (key) => `${lock(key)}:grants`,
    state: (key) => `${lock(key)}:state`,
    // Tagged by the user key too: a Cluster spreads rate keys over its slots as it does locks.
    rate: (key) => `${prefix}rate:{${encode(key)}}`,
    topic: (topic) => `${prefix}topic:${topic}`,
    wake: (backend) => `${prefix}wake:${backend}`,
    wakePrefix: `${prefix}wake:`,
    pattern: (keyPrefix) => `${glob(`${prefix}{${encode(keyPrefix)}`)}*`,
    keyOf(lockKey) {
      if (!lockKey.startsWith(`${prefix}{`) || !lockKey.endsWith('}')) return undefined;
      return decode(lockKey.slice(prefix.length + 1, -1));
    },
  };
}
