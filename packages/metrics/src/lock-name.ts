/** Maps a key to the lock name used as a label: by default the key up to its first `:`. */
export type LockName = (key: string) => string;

export const defaultLockName: LockName = (key) => {
  const colon = key.indexOf(':');
  return colon === -1 ? key : key.slice(0, colon);
};
