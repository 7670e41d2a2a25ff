/** Something kept in a {@link SlotList}: the list writes its place in it here (-1: in none). */
export interface Slotted {
  heartbeatSlot: number;
}

/**
 * An unordered set of objects that each know their place in it, so adding and deleting one
 * hashes nothing. A `Set` hashes each new lease on its way in and out, about 60 ns a lease: a
 * tenth of what the rest of an in-memory lease costs. An object is in one list at a time.
 *
 * @typeParam T - What the list holds.
 */
export class SlotList<T extends Slotted> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  has(item: T): boolean {
    const i = item.heartbeatSlot;
    return i >= 0 && this.#items[i] === item;
  }

  add(item: T): void {
    if (this.has(item)) return;
    item.heartbeatSlot = this.#items.length;
    this.#items.push(item);
  }

  delete(item: T): void {
    if (!this.has(item)) return;
    const i = item.heartbeatSlot;
    // The last item moves into the gap: order is not kept, and nothing else moves.
    const last = this.#items.pop()!;
    if (last !== item) {
      this.#items[i] = last;
      last.heartbeatSlot = i;
    }
    item.heartbeatSlot = -1;
  }

  /** A copy of the items, safe to walk while items are deleted. */
  snapshot(): T[] {
    return this.#items.slice();
  }

  [Symbol.iterator](): Iterator<T> {
    return this.#items[Symbol.iterator]();
  }
}
