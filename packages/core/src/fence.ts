import { InvalidArgumentError, StaleFenceError } from './errors.js';

/**
 * The last fence a protected resource has accepted, kept by the resource's own store. Use it
 * to reject writes from a holder whose lease has ended: the store applies a write only if its
 * fence is at least the latest one seen. This in-process version documents the pattern and
 * serves tests and one-process apps; `@oncelock/postgres` has the same check as one SQL update.
 *
 * @typeParam T - The value the resource holds.
 */
export class FencedResource<T> {
  /** The resource's name, for the `StaleFenceError` message. */
  readonly name: string;
  #latest: number | undefined;
  #value: T | undefined;

  /**
   * @param name - The resource's name, which a `StaleFenceError` gives.
   */
  constructor(name: string) {
    this.name = name;
  }

  /** The fence of the last write applied; `undefined` before the first. */
  get latest(): number | undefined {
    return this.#latest;
  }

  /** The value of the last write applied; `undefined` before the first. */
  get value(): T | undefined {
    return this.#value;
  }

  /**
   * Applies `value` if `fence` is not older than any fence seen; throws `StaleFenceError` otherwise.
   *
   * @param fence - The writer's lease fence (`lease.fence`): a non-negative safe integer.
   * @param value - The value to store when the fence is accepted.
   */
  write(fence: number, value: T): void {
    if (!Number.isSafeInteger(fence) || fence < 0)
      throw new InvalidArgumentError(`fence must be a non-negative safe integer, got ${fence}`);
    if (this.#latest !== undefined && fence < this.#latest)
      throw new StaleFenceError(this.name, fence, this.#latest);
    this.#latest = fence;
    this.#value = value;
  }
}
