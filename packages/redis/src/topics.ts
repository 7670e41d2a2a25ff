import type { Unsubscribe } from '@oncelock/core/backend';
import type { Connection } from './connection.js';
import type { KeySpace } from './keys.js';
import { joinWhenLive, type ListenerGroups } from './listener-groups.js';
import type { Subscriber } from './subscriber.js';

/**
 * `notify` and `listen`: a PUBLISH on the topic's channel (`<prefix>topic:<topic>`), heard on the
 * backend's one subscriber connection, which subscribes to a topic's channel while the topic has
 * a listener in this backend object. Nothing is queued: a wake-up sent while nobody listens, or
 * while the subscriber connection is down, is lost, as the contract allows.
 *
 * On a Cluster this is PUBLISH, not SPUBLISH: PUBLISH reaches a subscriber on any node (the
 * cluster bus carries it to every node), so the one subscriber connection the backend already
 * keeps hears every topic, on Redis 5 and 6 too. SPUBLISH would reach only the channel's shard,
 * so a backend would need a subscriber connection per primary (ioredis's `shardedSubscribers`,
 * off by default and absent from older ioredis 5 releases) and to follow slot moves. The price
 * of PUBLISH is that every message crosses the bus to every node: fine for wake-ups, which are
 * few and coalesce, as release wake-ups already do.
 */
export class Topics {
  readonly #conn: Connection;
  readonly #keys: KeySpace;
  readonly #subscriber: Subscriber;
  /** Listeners per topic channel, in this backend object. */
  readonly #listeners: ListenerGroups<undefined> = new Map();

  constructor(conn: Connection, keys: KeySpace, subscriber: Subscriber) {
    this.#conn = conn;
    this.#keys = keys;
    this.#subscriber = subscriber;
  }

  async notify(topic: string): Promise<void> {
    await this.#conn.run((c) => c.publish(this.#keys.topic(topic), ''));
  }

  listen(topic: string, listener: () => void): Promise<Unsubscribe> {
    const channel = this.#keys.topic(topic);
    const live = this.#subscriber.subscribe(channel, () => this.#call(channel));
    return joinWhenLive(this.#listeners, channel, listener, undefined, live, () =>
      this.#subscriber.unsubscribe(channel),
    );
  }

  #call(channel: string): void {
    for (const listener of [...(this.#listeners.get(channel)?.keys() ?? [])]) {
      try {
        listener();
      } catch {
        // Listeners must not throw; one that does still leaves the others their wake-up.
      }
    }
  }
}
