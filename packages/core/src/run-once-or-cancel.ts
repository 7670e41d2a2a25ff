import type { Requirements } from './capabilities.js';
import type { LockBackend } from './contract.js';
import { InvalidArgumentError } from './errors.js';
import { once, type RunResult } from './once.js';
import { describe } from './options/describe.js';
import { object, ttl } from './options/kinds.js';
import type { Option } from './options/option.js';
import { readOptions } from './options/read.js';
import { backendOption, keyOfCall, keyOrFunction } from './validate.js';

const common = { key: keyOrFunction, ttl: ttl(), require: object<Requirements>() };
const functionOptions = { ...common, backend: backendOption };
const methodOptions = {
  ...common,
  backend: {
    expects: 'an oncelock backend or a function that finds it on the instance',
    read: (value, name, where) =>
      typeof value === 'function' ? value : backendOption.read(value, name, where),
  } as Option<LockBackend | (() => LockBackend)>,
};
const at = { pkg: '@oncelock/core', call: 'runOnceOrCancel()' };

/**
 * Options of {@link runOnceOrCancel} (the function form).
 *
 * @typeParam A - The wrapped function's parameters, which a `key` function receives.
 */
export interface RunOnceOrCancelOptions<A extends unknown[]> {
  /** The store that holds the lock; every process that must not run the function at once shares it. */
  backend: LockBackend;
  /** A fixed key, or a function of the call's arguments (see `argsKey` for a stable hash of them). */
  key: string | ((...args: A) => string);
  /** TTL of the lock while `fn` runs; it is extended in the background. Default 30 s. */
  ttl?: number;
  /**
   * What the backend must guarantee (exclusion, fencing); a backend that falls short is refused
   * with `CapabilityUnsupportedError`. Default: nothing required.
   */
  require?: Requirements;
}

/**
 * Wraps `fn` so that at most one call per key runs at a time, across every process that shares
 * the backend. A call that finds its key held resolves at once with
 * `{ status: 'cancelled', reason: 'locked' }` instead of running; otherwise it resolves
 * `{ status: 'ran', value }`. An error thrown by `fn` propagates, and the lock is released.
 *
 * Called with options alone, it is a method decorator instead (see {@link OnceMethodOptions}).
 *
 * @example
 * const scan = runOnceOrCancel(async (shard: number) => work(shard), {
 *   backend, key: (shard) => `scan:${shard}`, ttl: 30_000,
 * });
 * const r = await scan(3);
 *
 * @typeParam A - `fn`'s parameters; the wrapped function takes the same.
 * @typeParam T - What `fn` returns, as `value` of a call that ran.
 * @param fn - The function to guard, called with the wrapper's `this` and arguments.
 * @param options - The backend, the key (fixed or from the arguments), the TTL in milliseconds.
 */
export function runOnceOrCancel<A extends unknown[], T>(
  fn: (...args: A) => Promise<T> | T,
  options: RunOnceOrCancelOptions<A>,
): (...args: A) => Promise<RunResult<T>>;
/**
 * The method-decorator form: `@runOnceOrCancel({ backend, key })` on an async method, with
 * standard or legacy (`experimentalDecorators`) decorators. A call that finds its key held
 * resolves `undefined` without running.
 *
 * @typeParam This - The class whose method is decorated.
 * @typeParam A - The method's parameters, which a `key` function receives.
 * @typeParam R - What the method resolves to; it must admit `undefined`.
 * @param options - The backend (or a function that finds it on the instance), the key, the TTL.
 */
export function runOnceOrCancel<This, A extends unknown[], R>(
  options: OnceMethodOptions<This, A>,
): MethodDecorator<This, A, R>;
export function runOnceOrCancel<This, A extends unknown[], T>(
  fnOrOptions: ((...args: A) => Promise<T> | T) | OnceMethodOptions<This, A>,
  options?: RunOnceOrCancelOptions<A>,
) {
  if (options === undefined && typeof fnOrOptions === 'object' && fnOrOptions !== null) {
    return onceOrCancelMethod<This, A, T>(fnOrOptions);
  }
  if (typeof fnOrOptions !== 'function') {
    throw new InvalidArgumentError(`runOnceOrCancel needs a function, got ${describe(fnOrOptions)}`);
  }
  const fn = fnOrOptions;
  const o = checkOptions(options as RunOnceOrCancelOptions<A>);
  return function (this: unknown, ...args: A) {
    return guardCall(o, this, args, () => fn.apply(this, args));
  };
}

/**
 * An async method of `This` taking `A` and resolving `R`.
 *
 * @typeParam This - The class the method belongs to.
 * @typeParam A - The method's parameters.
 * @typeParam R - What the method resolves to.
 * @param this - The instance the method is called on.
 * @param args - The method's arguments.
 */
export type AsyncMethod<This, A extends unknown[], R> = (this: This, ...args: A) => Promise<R>;

/**
 * A method decorator for an async method, of either kind: standard (TC39, TypeScript 5+ by
 * default) or legacy (`experimentalDecorators: true`, as NestJS projects use).
 *
 * @typeParam This - The class whose method is decorated.
 * @typeParam A - The method's parameters.
 * @typeParam R - What the method resolves to.
 */
export interface MethodDecorator<This, A extends unknown[], R = unknown> {
  /**
   * The standard form: TypeScript calls it with the method and its context.
   *
   * @typeParam M - The decorated method's type, kept as it is.
   * @param method - The method as declared; the decorator returns its guarded replacement.
   * @param context - TypeScript's decorator context for the method.
   */
  <M extends AsyncMethod<This, A, R>>(method: M, context: ClassMethodDecoratorContext<This, M>): M;
  /**
   * The legacy form: TypeScript calls it with the prototype, the name and the property descriptor.
   *
   * @typeParam M - The decorated method's type, kept as it is.
   * @param target - The class's prototype.
   * @param name - The method's name.
   * @param descriptor - The method's property descriptor; the decorator returns a copy whose
   *   `value` is the guarded method.
   */
  <M extends AsyncMethod<This, A, R>>(
    target: object,
    name: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M>;
}

/**
 * Options of the method-decorator form, `@runOnceOrCancel({ backend, key })` (TypeScript 5+
 * standard decorators). A call that finds its key held resolves `undefined` without running,
 * so the method's return type must admit `undefined` (`Promise<void>` or
 * `Promise<T | undefined>`). Listen for `skipped` events to observe it.
 *
 * @example
 * class Scanner {
 *   \@runOnceOrCancel({ backend, key: (shard: number) => `scan:${shard}` })
 *   async scan(shard: number): Promise<void> { ... }
 * }
 *
 * @typeParam This - The class whose method is decorated; `backend` and `key` functions get it as `this`.
 * @typeParam A - The method's parameters, which a `key` function receives.
 */
export interface OnceMethodOptions<This, A extends unknown[]> {
  /** The backend, or a function that finds it on the instance (`function () { return this.backend }`). */
  backend: LockBackend | ((this: This) => LockBackend);
  /** A fixed key, or a function of the instance and the call's arguments. */
  key: string | ((this: This, ...args: A) => string);
  /** TTL of the lock while the method runs, in milliseconds; it is extended in the background. Default 30 s. */
  ttl?: number;
  /**
   * What the backend must guarantee (exclusion, fencing); a backend that falls short is refused
   * with `CapabilityUnsupportedError`. Default: nothing required.
   */
  require?: Requirements;
}

function onceOrCancelMethod<This, A extends unknown[], R>(
  options: OnceMethodOptions<This, A>,
): MethodDecorator<This, A, R> {
  readOptions(options, methodOptions, at);
  const wrap = (method: AsyncMethod<This, A, R>): AsyncMethod<This, A, R> =>
    async function (this: This, ...args: A): Promise<R> {
      const backend = typeof options.backend === 'function' ? options.backend.call(this) : options.backend;
      const o = checkOptions({ ...options, backend } as RunOnceOrCancelOptions<A>);
      const r = await guardCall(o, this, args, () => method.apply(this, args));
      return (r.status === 'ran' ? r.value : undefined) as R;
    };
  // Told apart by their second argument: a context object, or the method's name.
  return ((method: AsyncMethod<This, A, R> | object, second: unknown, descriptor?: PropertyDescriptor) => {
    if (typeof second === 'object') return wrap(method as AsyncMethod<This, A, R>);
    if (typeof descriptor?.value !== 'function') {
      throw new InvalidArgumentError(`@runOnceOrCancel decorates methods; ${String(second)} is not one`);
    }
    return { ...descriptor, value: wrap(descriptor.value) };
  }) as MethodDecorator<This, A, R>;
}

function checkOptions<A extends unknown[]>(options: RunOnceOrCancelOptions<A>) {
  return readOptions(options, functionOptions, at, true) as RunOnceOrCancelOptions<A>;
}

async function guardCall<A extends unknown[], T>(
  o: RunOnceOrCancelOptions<A>,
  self: unknown,
  args: A,
  body: () => Promise<T> | T,
): Promise<RunResult<T>> {
  const key = keyOfCall(o.key, self, args);
  return once(o.backend, {
    key,
    mode: 'whileRunning',
    onConflict: 'cancel',
    ttl: o.ttl,
    require: o.require,
  }).run(body);
}
