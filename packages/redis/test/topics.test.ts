import { newToken } from '@oncelock/core/backend';
import { type RedisBackend, redisBackend } from '@oncelock/redis';
import { delay, eventually } from '@oncelock/testkit';
import { killRedisClients } from '@oncelock/testkit/faults';
import { redisUrl } from '@oncelock/testkit/servers';
import { afterAll, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

// Topics (notify and listen) over pub/sub, between backend objects with connections of their own.
const port = Number(new URL(redisUrl).port || 6379);
const backends: RedisBackend[] = [];
const open = (name?: string) => {
  const b = redisBackend({ url: redisUrl, ...(name ? { redis: { connectionName: name } } : {}) });
  backends.push(b);
  return b;
};
afterAll(() => Promise.all(backends.map((b) => b.close())));
const inspector = raw(redisUrl);

/** Counts the calls of a listener, and resolves `next()` at the next one. */
function counter() {
  let calls = 0;
  let wake: (() => void) | undefined;
  return {
    listener: () => {
      calls++;
      wake?.();
    },
    get calls() {
      return calls;
    },
    next: () => new Promise<void>((resolve) => (wake = resolve)),
  };
}

describe('redis topics', () => {
  it('a notify in one backend reaches listeners in others once listen has resolved', async () => {
    const [sender, a, b] = [open(), open(), open()];
    const topic = unique('topic');
    const [ca, cb, other] = [counter(), counter(), counter()];
    await a.listen(topic, ca.listener);
    await b.listen(topic, cb.listener);
    await b.listen(unique('other'), other.listener);
    const heard = Promise.all([ca.next(), cb.next()]);
    await sender.notify(topic); // no wait between: listen resolved once SUBSCRIBE was confirmed
    await heard;
    expect([ca.calls, cb.calls, other.calls]).toEqual([1, 1, 0]);
  });

  it('an unsubscribed listener hears nothing; the others of the topic still do', async () => {
    const [sender, b] = [open(), open()];
    const topic = unique('leave');
    const [gone, kept, twice] = [counter(), counter(), counter()];
    const off = await b.listen(topic, gone.listener);
    await b.listen(topic, kept.listener);
    const offTwice = [await b.listen(topic, twice.listener), await b.listen(topic, twice.listener)];
    off();
    offTwice[0]!();
    let heard = kept.next();
    await sender.notify(topic);
    await heard;
    // One connection delivers in order: once `kept` heard, `gone` would have heard too.
    expect([gone.calls, kept.calls, twice.calls]).toEqual([0, 1, 1]);
    offTwice[1]!();
    heard = kept.next();
    await sender.notify(topic);
    await heard;
    expect([gone.calls, kept.calls, twice.calls]).toEqual([0, 2, 1]);
  });

  it('the last listener leaving unsubscribes the channel, and a new listen subscribes it again', async () => {
    const [sender, b] = [open(), open()];
    const topic = unique('again');
    const first = counter();
    (await b.listen(topic, first.listener))();
    // UNSUBSCRIBE is sent without waiting for its reply: watch the server's count drop.
    const subscribers = async () => (await inspector.pubsub('NUMSUB', `oncelock:topic:${topic}`))[1];
    expect(await eventually(async () => (await subscribers()) === 0)).toBe(true);
    const second = counter();
    await b.listen(topic, second.listener);
    expect(await subscribers()).toBe(1);
    const heard = second.next();
    await sender.notify(topic);
    await heard;
    expect([first.calls, second.calls]).toEqual([0, 1]);
  });

  it('listening survives a dropped subscriber connection (CLIENT KILL): ioredis subscribes again', async () => {
    const name = `oncelock-topics-${newToken().slice(0, 8)}`;
    const [sender, b] = [open(), open(name)];
    const topic = unique('reconnect');
    const c = counter();
    await b.listen(topic, c.listener);
    const killed = await killRedisClients(port, (info) => info.name === name && info.sub !== '0');
    expect(killed.length).toBe(1);
    // Wake-ups sent while it is down are lost, as the contract says: send until one is heard.
    expect(
      await eventually(async () => {
        await sender.notify(topic);
        await delay(20);
        return c.calls > 0;
      }, 10_000),
    ).toBe(true);
  });

  it('a listener that throws does not stop the others', async () => {
    const [sender, b] = [open(), open()];
    const topic = unique('throws');
    const c = counter();
    await b.listen(topic, () => {
      throw new Error('a bad listener');
    });
    await b.listen(topic, c.listener);
    const heard = c.next();
    await sender.notify(topic);
    await heard;
    expect(c.calls).toBe(1);
  });
});
