import { createInterface } from 'node:readline/promises';
import { usageError } from './exit-codes.js';
import type { Io } from './io.js';

/**
 * Asks a yes/no question on a terminal; `--yes` answers it in scripts. Without a terminal and
 * without `--yes` it refuses, so a pipeline never frees a lock by accident.
 */
export async function confirm(io: Io, question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!io.stdin.isTTY) throw usageError('release needs a confirmation: run it in a terminal, or pass --yes');
  const rl = createInterface({ input: io.stdin, output: io.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
