/**
 * Maps a key to the lock name used as a label: by default the key up to its first `:`.
 *
 * @param key - A lease's or once-claim's key, as the caller gave it.
 */
export type LockName = (key: string) => string;

/** The default {@link LockName}: `report:42` → `report`, a key without `:` → itself. */
export const defaultLockName: LockName = (key) => {
  const colon = key.indexOf(':');
  return colon === -1 ? key : key.slice(0, colon);
};
