// keyvBackend over a Keyv store that throws its errors.
// #region keyv
import KeyvRedis from '@keyv/redis';
import { keyvBackend, type LockBackend } from '@oncelock/keyv';
import { Keyv } from 'keyv';

export function keyvLocks(url: string): LockBackend {
  // Both Keyv and its adapter must throw on errors: a swallowed read
  // error would look like "free".
  const store = new Keyv(new KeyvRedis(url, { throwOnErrors: true }), {
    throwOnErrors: true,
  });
  return keyvBackend({ store, prefix: 'locks:', closeStore: true });
}
// #endregion keyv
