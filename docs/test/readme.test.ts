// The root README's first code block is what a new user copies first: it runs as shown, with
// plain Node on the lowest supported version, against the local Redis it names.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const firstBlock = /```(\w+)\n([\s\S]*?)```/.exec(readme);

it('the README’s first code block runs with Node as shown', async () => {
  const [, lang, code] = firstBlock ?? [];
  expect(lang).toBe('js');
  // --input-type=module resolves imports from the working directory: the docs package's
  // node_modules, which hold the workspace packages as a user's would.
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code ?? ''], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    timeout: 30_000,
  });
  expect(stdout).toContain("{ status: 'ran', value: 'scanned shard 3' }");
  expect(stdout).toMatch(/holding audit-backfill with fence \d+ lost: false/);
});
