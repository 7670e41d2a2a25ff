/**
 * A short, safe description of a bad value for error messages (never the whole of a long string).
 *
 * @param value - Any value; a string over 40 characters is described by its length only.
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
