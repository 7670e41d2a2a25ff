import { OncelockError } from '@oncelock/core';
import { CliError, EXIT, type ExitCode } from './exit-codes.js';

// PostgreSQL's codes for a schema or table that is not there: oncelock never ran on it.
const NO_SCHEMA = new Set(['3F000', '42P01']);

const causes = (error: unknown): unknown[] => {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && chain.length < 5; e = (e as { cause?: unknown }).cause)
    chain.push(e);
  return chain;
};

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** What went wrong, in one line, and the exit code it maps to. No stack: the user can do nothing with it. */
export function explain(error: unknown, store?: string): { code: ExitCode; message: string } {
  if (error instanceof CliError) return { code: error.code, message: error.message };
  const chain = causes(error);
  const pgCode = chain
    .map((e) => (e as { code?: unknown }).code)
    .find((c) => typeof c === 'string' && NO_SCHEMA.has(c));
  if (pgCode) {
    return {
      code: EXIT.notHeld,
      message: `no oncelock tables at ${store}: nothing has taken a lock in this database and schema (see --schema)`,
    };
  }
  if (error instanceof OncelockError && error.code === 'ONCELOCK_INVALID_ARGUMENT') {
    return { code: EXIT.usage, message: error.message };
  }
  const detail = chain
    .map(messageOf)
    // Wrappers often repeat their cause's words; say each thing once.
    .filter((m, i, all) => m && !all.slice(0, i).some((earlier) => earlier.includes(m)))
    .join(': ');
  // The backends wrap whatever the store or the way to it did: down, refused, timed out, bad password.
  if (error instanceof OncelockError) {
    return { code: EXIT.unreachable, message: store ? `cannot use ${store}: ${detail}` : detail };
  }
  return { code: EXIT.failed, message: `unexpected error (please report it): ${detail}` };
}
