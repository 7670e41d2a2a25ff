// Core refuses, before any round trip, what a best-effort backend without fences cannot honour,
// and the refusal names backends that would serve.
import Keyv from 'keyv';
import { describe, expect, it } from 'vitest';
import { CapabilityUnsupportedError, keyvBackend, lease, once, runOnceOrCancel } from '../src/index.js';

const backend = () => keyvBackend({ store: new Keyv({ throwOnErrors: true }) });

async function refusal(p: Promise<unknown>): Promise<CapabilityUnsupportedError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CapabilityUnsupportedError);
  return error as CapabilityUnsupportedError;
}

describe('capability refusals through keyvBackend', () => {
  it('a lease that needs strict exclusion is refused, naming Redis and Postgres', async () => {
    const b = backend();
    const error = await refusal(lease(b, 'job', { ttl: 1000, require: { exclusion: 'strict' } }));
    expect(error.code).toBe('ONCELOCK_UNSUPPORTED');
    expect(error.backend).toBe('keyv');
    expect(error.message).toMatch(/^\[@oncelock\/keyv keyv\]/);
    expect(error.message).toMatch(/redisBackend/);
    expect(error.message).toMatch(/postgresBackend/);
    expect(await b.inspect('job')).toBeNull(); // refused before anything was written
  });

  it('quorum exclusion is refused too, naming redlockBackend', async () => {
    const error = await refusal(lease(backend(), 'job', { ttl: 1000, require: { exclusion: 'quorum' } }));
    expect(error.message).toMatch(/redlockBackend/);
  });

  it('a lease that needs fencing is refused, and a granted lease has no fence to give', async () => {
    const b = backend();
    const error = await refusal(lease(b, 'job', { ttl: 1000, require: { fencing: true } }));
    expect(error.message).toMatch(/fencing/);
    expect(error.message).toMatch(/redisBackend|postgresBackend/);
    const l = await lease(b, 'job', { ttl: 1000, require: { exclusion: 'best-effort' } });
    expect(() => l.fence).toThrow(CapabilityUnsupportedError);
    expect(await l.release()).toBe(true);
  });

  it('once and runOnceOrCancel refuse the same requirements without running the work', async () => {
    const b = backend();
    let ran = 0;
    const guard = () => once(b, { key: 'scan', require: { exclusion: 'strict' } });
    expect(guard).toThrow(CapabilityUnsupportedError);
    const scan = runOnceOrCancel(
      async () => {
        ran++;
      },
      { backend: b, key: 'scan', ttl: 1000, require: { fencing: true } },
    );
    await refusal(Promise.resolve().then(() => scan()));
    expect(ran).toBe(0);
  });
});
