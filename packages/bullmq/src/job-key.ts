import { checkKey, describeValue, invalid, type Option } from '@oncelock/core/backend';

/** The key of a job: a fixed string, or a function of its name and data. `null` leaves the job unguarded. */
export type JobKey<DataType, NameType extends string> =
  | string
  | ((name: NameType, data: DataType) => string | null | undefined);

/** A job key: a string (checked as a lock key) or a function; `required` refuses leaving it out. */
export function jobKey(required: boolean): Option<JobKey<unknown, string> | undefined> {
  const expects = 'a key string or a function of (name, data)';
  return {
    expects,
    read(value, name, where) {
      if (typeof value === 'string') return checkKey(value, name);
      if (typeof value === 'function' || (value === undefined && !required))
        return value as JobKey<unknown, string> | undefined;
      throw invalid(where, `${name} must be ${expects}, got ${describeValue(value)}`);
    },
  };
}

/** The lock key of a job in the queue named `qualifiedName`, or `null` if the job is unguarded. */
export function lockKeyOf<DataType, NameType extends string>(
  key: JobKey<DataType, NameType>,
  qualifiedName: string,
  name: NameType,
  data: DataType,
): string | null {
  const own = typeof key === 'string' ? key : key(name, data);
  if (own === null || own === undefined) return null;
  checkKey(own);
  return checkKey(`${qualifiedName}:${own}`);
}
