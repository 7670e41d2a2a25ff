import type { StoreArgs } from './args.js';
import { explain } from './errors.js';
import { CliError } from './exit-codes.js';
import { openStore, redact, type Store } from './store.js';

/** Runs `use` with the store the URL names, closes the store after, and says which store failed. */
export async function withStore<T>(args: StoreArgs, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(args);
  try {
    return await use(store);
  } catch (error) {
    const { code, message } = explain(error, redact(args.url));
    throw new CliError(code, message);
  } finally {
    // A store that is down fails its close too; what the user needs to know is the error above.
    await store.close().catch(() => {});
  }
}
