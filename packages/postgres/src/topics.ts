import { createHash } from 'node:crypto';
import type { Unsubscribe } from '@oncelock/core/backend';
import { storable } from './batch.js';
import type { Listener } from './listener.js';
import type { Shared } from './mode.js';

/** The longest channel name PostgreSQL keeps, in bytes: an identifier (NAMEDATALEN - 1). */
const MAX_CHANNEL = 63;

/** The version of {@link topicChannel}'s hash, pinned like the lock ids': triggers name channels by it. */
export const TOPIC_CHANNEL_VERSION = 'v1';

/**
 * The NOTIFY channel of a wake-up topic in `schema`: `oncelock:<schema>:<topic>` when that is at
 * most 63 bytes of UTF-8, else `oncelock:` and the first 54 hex digits of
 * SHA-256(`oncelock-topic-v1` NUL schema NUL topic). A longer name would not survive as a channel:
 * `LISTEN` cuts an identifier to 63 bytes and `pg_notify` refuses it. The two forms never meet
 * (a schema has no `:`, so only the first has a second one), and neither meets a schema's release
 * channel, `oncelock:<schema>`.
 *
 * A database trigger wakes listeners of the topic with `pg_notify('<channel>', '')`, or
 * `NOTIFY "<channel>"`; the payload is not read.
 *
 * @param topic - The topic, as passed to `notify` and `listen`.
 * @param schema - The backend's schema (its `schema` option). Default `oncelock`.
 */
export function topicChannel(topic: string, schema = 'oncelock'): string {
  const plain = `oncelock:${schema}:${topic}`;
  if (Buffer.byteLength(plain, 'utf8') <= MAX_CHANNEL) return plain;
  const digest = createHash('sha256')
    .update(`oncelock-topic-${TOPIC_CHANNEL_VERSION}\0${schema}\0${topic}`, 'utf8')
    .digest('hex');
  return `oncelock:${digest.slice(0, MAX_CHANNEL - 'oncelock:'.length)}`;
}

/**
 * `notify` and `listen` on `schema`'s topic channels. `notify` is one `pg_notify` on any pooled
 * connection (it works behind a transaction pooler too); `listen` needs the backend's LISTEN
 * connection, so a backend without one (table mode without `listen`) has no `listen`.
 */
export function topicOperations({ db, options }: Shared, listener: Listener | undefined) {
  const { schema } = options;
  return {
    async notify(topic: string): Promise<void> {
      await db.rows(`SELECT pg_notify($1::text, '')`, [topicChannel(storable(topic, 'topic'), schema)]);
    },
    ...(listener && {
      listen: (topic: string, fn: () => void): Promise<Unsubscribe> =>
        listener.listen(topicChannel(storable(topic, 'topic'), schema), fn),
    }),
  };
}
