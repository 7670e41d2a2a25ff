import { backendContract } from '@oncelock/testkit';
import { keyvBackend } from '../src/index.js';
import { allStores } from './stores.js';

for (const makeStore of allStores) {
  const store = makeStore();
  backendContract({
    name: `keyv (${store.name})`,
    create: () => keyvBackend({ store: store.keyv(), ...store.tuning, closeStore: store.ownsConnection }),
    teardown: () => store.cleanup(),
  });
}
