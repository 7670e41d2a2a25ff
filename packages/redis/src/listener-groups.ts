import type { Unsubscribe } from '@oncelock/core/backend';

/** Listeners by name (a lock key, a topic channel), oldest first, each with a value of its own. */
export type ListenerGroups<V> = Map<string, Map<() => void, V>>;

/**
 * Adds `listener` to the group `name` (made if missing) and resolves, once `live` has, with the
 * way to take it out again; if `live` fails it is taken out at once and the error passed on. A
 * wrapper per call, so that adding one function twice takes two removals. The group goes when
 * its last listener leaves, and `emptied` is called then.
 */
export async function joinWhenLive<V>(
  groups: ListenerGroups<V>,
  name: string,
  listener: () => void,
  value: V,
  live: Promise<unknown>,
  emptied?: () => void,
): Promise<Unsubscribe> {
  let group = groups.get(name);
  if (!group) {
    group = new Map();
    groups.set(name, group);
  }
  const joined = group;
  const entry = () => listener();
  joined.set(entry, value);
  const leave = () => {
    if (!joined.delete(entry) || joined.size > 0 || groups.get(name) !== joined) return;
    groups.delete(name);
    emptied?.();
  };
  try {
    await live;
  } catch (error) {
    leave();
    throw error;
  }
  return leave;
}
