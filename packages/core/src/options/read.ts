import { describe } from './describe.js';
import { type At, invalid, type Option } from './option.js';
import { closest } from './suggest.js';

/** The options a call takes, by name. */
export type Spec = Record<string, Option<unknown>>;
/**
 * What {@link readOptions} returns for a spec: each option's parsed value.
 *
 * @typeParam S - The spec the options were read with.
 */
export type Read<S extends Spec> = { -readonly [K in keyof S]: S[K] extends Option<infer T> ? T : never };

/**
 * Checks an options object against `spec` and returns the parsed values. Refuses what is not a
 * plain object, and any name the spec does not know, with the closest known name as a
 * suggestion (`wiat` → `wait`): from JavaScript a typo would otherwise be silently ignored.
 * `undefined` reads as `{}` unless `required` is set.
 *
 * @typeParam S - The spec, whose option types give the result's types.
 * @param value - The options object the user passed, or `undefined`.
 * @param spec - Each option the call takes, by name, with its kind and default.
 * @param at - The package and the call, for every message.
 * @param required - Refuse a left-out options object rather than read it as `{}`. Default `false`.
 */
export function readOptions<S extends Spec>(value: unknown, spec: S, at: At, required = false): Read<S> {
  const given = optionsObject(value, spec, at, required);
  const out: Record<string, unknown> = {};
  for (const name in spec) out[name] = spec[name]!.read(given[name], name, at);
  return out as Read<S>;
}

/**
 * The first half of {@link readOptions}: refuses what is not a plain object and any name `spec`
 * does not know, and returns the object to read each option from. A hot call (`lease()`) reads
 * its options one by one itself: a loop over the spec costs it several times more.
 *
 * @typeParam S - The spec the options will be read with.
 * @param value - The options object the user passed, or `undefined`.
 * @param spec - Each option the call takes, by name.
 * @param at - The package and the call, for every message.
 * @param required - Refuse a left-out options object rather than read it as `{}`. Default `false`.
 */
export function optionsObject<S extends Spec>(
  value: unknown,
  spec: S,
  at: At,
  required = false,
): { readonly [K in keyof S]?: unknown } {
  if (value === undefined && !required) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(at, `needs an options object, got ${describe(value)}`);
  }
  const given = value as Record<string, unknown>;
  for (const name in given) if (!Object.hasOwn(spec, name)) throw unknown(name, spec, at);
  return given as { readonly [K in keyof S]?: unknown };
}

function unknown(name: string, spec: Spec, at: At) {
  const known = Object.keys(spec);
  const guess = closest(name, known);
  const hint = guess ? `did you mean "${guess}"?` : `it takes ${known.map((k) => `"${k}"`).join(', ')}`;
  return invalid(at, `unknown option "${name}": ${hint}`);
}

/**
 * Refuses a call that gives more or fewer than one of `names` (`url`, `client` or `cluster`).
 * Returns the name that was given.
 *
 * @param given - The options object as the user passed it.
 * @param names - The options of which exactly one must be present (not `undefined`).
 * @param at - The package and the call, for the message.
 */
export function exactlyOne(given: Record<string, unknown>, names: readonly string[], at: At): string {
  const present = names.filter((n) => given[n] !== undefined);
  if (present.length === 1) return present[0]!;
  const list = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  throw invalid(
    at,
    present.length === 0 ? `needs one of ${list}` : `takes one of ${list}, got ${present.join(' and ')}`,
  );
}
