import diagnostics from 'node:diagnostics_channel';
import { EVENT_CHANNEL, lease, memoryBackend, type OncelockEvent } from '@oncelock/core';
import { describe, expect, it } from 'vitest';

describe('events on node:diagnostics_channel', () => {
  it('publishes every event on "oncelock:event" to a subscriber, with no onEvent listener', async () => {
    const seen: OncelockEvent[] = [];
    const fn = (message: unknown) => seen.push(message as OncelockEvent);
    diagnostics.subscribe(EVENT_CHANNEL, fn);
    try {
      const l = await lease(memoryBackend(), 'dc:1', { ttl: 1000 });
      await l.release();
    } finally {
      diagnostics.unsubscribe(EVENT_CHANNEL, fn);
    }
    expect(EVENT_CHANNEL).toBe('oncelock:event');
    expect(seen.map((e) => `${e.type}:${e.key}`)).toEqual(['acquired:dc:1', 'released:dc:1']);
    await (await lease(memoryBackend(), 'dc:2', { ttl: 1000 })).release();
    expect(seen).toHaveLength(2);
  });
});
