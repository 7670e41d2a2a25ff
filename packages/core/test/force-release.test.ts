import diagnostics from 'node:diagnostics_channel';
import {
  EVENT_CHANNEL,
  type EventOf,
  forceRelease,
  InvalidArgumentError,
  lease,
  memoryBackend,
  type OncelockEvent,
} from '@oncelock/core';
import { describe, expect, it } from 'vitest';

/** Runs `work` with a diagnostics channel subscriber, as an APM agent would attach, and returns the forced events it saw. */
async function forcedEvents(work: () => Promise<void>): Promise<Array<EventOf<'forced'>>> {
  const seen: OncelockEvent[] = [];
  const fn = (message: unknown) => seen.push(message as OncelockEvent);
  diagnostics.subscribe(EVENT_CHANNEL, fn);
  try {
    await work();
  } finally {
    diagnostics.unsubscribe(EVENT_CHANNEL, fn);
  }
  return seen.filter((e): e is EventOf<'forced'> => e.type === 'forced');
}

describe('forceRelease', () => {
  it("frees a key from another owner's lease, reports it as a forced event, and reports a second try as removing nothing", async () => {
    const backend = memoryBackend();
    const held = await lease(backend, 'stuck:1', { ttl: 60_000, autoExtend: false });
    const holder = await backend.inspect('stuck:1');
    if (!holder) throw new Error('the lease was not in the store');
    let results: boolean[] = [];
    const events = await forcedEvents(async () => {
      results = [
        await forceRelease(backend, 'stuck:1', holder),
        await forceRelease(backend, 'stuck:1', holder),
      ];
    });
    expect(results).toEqual([true, false]);
    expect(await backend.inspect('stuck:1')).toBeNull();
    const common = {
      type: 'forced',
      backend: 'memory',
      key: 'stuck:1',
      owner: held.token,
      fence: held.fence,
    };
    expect(events).toEqual([
      { ...common, released: true },
      { ...common, released: false },
    ]);
    // The holder's own release finds nothing of its own left.
    expect(await held.release()).toBe(false);
  });

  it('leaves alone a holder that took the key after the inspection', async () => {
    const backend = memoryBackend();
    const first = await lease(backend, 'report', { ttl: 60_000 });
    const seen = await backend.inspect('report');
    await first.release();
    const second = await lease(backend, 'report', { ttl: 60_000 });
    try {
      if (!seen) throw new Error('the lease was not in the store');
      expect(await forceRelease(backend, 'report', seen)).toBe(false);
      expect((await backend.inspect('report'))?.owner).toBe(second.token);
    } finally {
      await second.release();
    }
  });

  it("removes one permit of a key held by permits, with the key's limit", async () => {
    const backend = memoryBackend();
    const a = await lease(backend, 'tenant:7', { ttl: 60_000, limit: 2 });
    const b = await lease(backend, 'tenant:7', { ttl: 60_000, limit: 2 });
    try {
      const oldest = await backend.inspect('tenant:7');
      expect(oldest).toMatchObject({ owner: a.token, limit: 2 });
      if (!oldest) return;
      expect(await forceRelease(backend, 'tenant:7', oldest)).toBe(true);
      const left = await backend.inspect('tenant:7');
      expect(left?.holders?.map((h) => h.owner)).toEqual([b.token]);
    } finally {
      await b.release();
    }
  });

  it('refuses a bad key, holder or backend with InvalidArgumentError before any round trip', async () => {
    const backend = memoryBackend();
    const holder = { owner: 'someone' };
    await expect(forceRelease(backend, '', holder)).rejects.toThrow(InvalidArgumentError);
    await expect(forceRelease(backend, 'k', null as never)).rejects.toThrow(/holder must be what inspect/);
    await expect(forceRelease(backend, 'k', { owner: '' })).rejects.toThrow(InvalidArgumentError);
    await expect(forceRelease({} as never, 'k', holder)).rejects.toThrow(
      /backend must be an oncelock backend/,
    );
  });
});
