import type { Unsubscribe } from './contract.js';

/** Listeners by name (a key's release watchers, a topic's wake-up listeners), called on a later microtask. */
export class Listeners {
  readonly #byName = new Map<string, Set<() => void>>();

  /**
   * Adds `listener` to `name`'s set; the returned function removes it.
   *
   * @param name - What the listener hears about.
   * @param listener - Called with no arguments.
   */
  add(name: string, listener: () => void): Unsubscribe {
    const set = this.#byName.get(name) ?? new Set<() => void>();
    this.#byName.set(name, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#byName.get(name) === set) this.#byName.delete(name);
    };
  }

  /**
   * Calls every listener of `name`, each on its own microtask so that none runs inside the caller.
   *
   * @param name - Whose listeners to call.
   */
  call(name: string): void {
    const set = this.#byName.get(name);
    if (set) for (const fn of set) queueMicrotask(fn);
  }

  /** Forgets every listener. */
  clear(): void {
    this.#byName.clear();
  }
}
