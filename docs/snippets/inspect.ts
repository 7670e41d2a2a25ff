// Who holds what: inspect one key, or list a prefix where the backend
// supports it.
// #region inspect
import type { LockBackend } from '@oncelock/core';

export async function whoHolds(
  backend: LockBackend,
  key: string,
): Promise<string> {
  // one round trip; never waits for the lock
  const holder = await backend.inspect(key);
  if (holder === null) return `${key}: free`;
  const left =
    holder.ttlRemaining === undefined
      ? '?'
      : `${Math.round(holder.ttlRemaining)} ms`;
  const since =
    holder.since === undefined
      ? ''
      : ` since ${new Date(holder.since).toISOString()}`;
  const fence = holder.fence ?? 'n/a';
  const who = `${key}: held by ${holder.owner}${since}`;
  return `${who}, ${left} left, fence ${fence}`;
}

export async function heldUnder(
  backend: LockBackend,
  prefix: string,
): Promise<string[]> {
  if (!backend.list)
    return [`${backend.name} cannot list keys; inspect them one by one`];
  const held = await backend.list(prefix);
  return held.map(
    (h) =>
      `${h.key}\t${h.owner}\t${h.ttlRemaining ?? '?'} ms\t` +
      `fence ${h.fence ?? 'n/a'}`,
  );
}
// #endregion inspect
