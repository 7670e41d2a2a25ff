import * as core from '@oncelock/core';
import * as kit from '@oncelock/core/backend';
import { describe, expect, it } from 'vitest';

describe('public surface', () => {
  it('the main entry holds what users call, and no validator or internal helper', () => {
    expect(Object.keys(core).sort()).toEqual(
      [
        'ARGS_KEY_VERSION',
        'BackendClosedError',
        'BackendUnavailableError',
        'CapabilityUnsupportedError',
        'EVENT_CHANNEL',
        'FencedResource',
        'forceRelease',
        'InvalidArgumentError',
        'LimitMismatchError',
        'LockLostError',
        'LockNotAcquiredError',
        'OncelockError',
        'StaleFenceError',
        'WaitAbortedError',
        'WaitTimeoutError',
        'argsKey',
        'currentLease',
        'iterate',
        'iterationProgress',
        'joinKey',
        'lease',
        'limitConcurrency',
        'memoryBackend',
        'once',
        'onceModes',
        'onEvent',
        'restartIteration',
        'singleton',
        'wakeSingleton',
        'rateLimit',
        'rateLimited',
        'runOnceOrCancel',
        'tryLease',
        'withLease',
      ].sort(),
    );
  });

  it('the backend subpath holds the kit', () => {
    for (const name of [
      'defineBackend',
      'readOptions',
      'within',
      'unavailable',
      'newToken',
      'checkKey',
      'ttl',
    ])
      expect(kit).toHaveProperty(name);
    expect(Object.keys(kit).filter((name) => name in core)).toEqual([]);
  });
});
