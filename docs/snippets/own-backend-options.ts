// Reading a backend factory's options with the kit's checkers.
// #region options
import { duration, readOptions, text, url } from '@oncelock/core/backend';

const spec = {
  url: url(['sqlite:']).required(),
  prefix: text().default('locks:'),
  timeout: duration({ min: 10, max: 60_000 }).default(2_000),
};

export function sqliteOptions(options: unknown) {
  // The last argument: an options object must be given (a bare
  // `sqliteBackend()` is refused).
  return readOptions(
    options,
    spec,
    { pkg: 'my-sqlite-backend', call: 'sqliteBackend()' },
    true,
  );
}

// sqliteOptions({ url: 'sqlite:locks.db' })  → { url: 'sqlite:locks.db',
// prefix: 'locks:', timeout: 2000 }
// sqliteOptions({ url: 'sqlite:locks.db', timout: 5 })
// → InvalidArgumentError: [my-sqlite-backend] sqliteBackend(): unknown
// option "timout": did you mean "timeout"?
// #endregion options
