// A reader copies the first block a page shows from a snippet file: it must carry that file's
// imports, so that it runs as shown.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const docs = new URL('..', import.meta.url).pathname;
const pages = ['guide', 'backends'].flatMap((dir) =>
  readdirSync(join(docs, dir))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(dir, f)),
);

it('the first block each page includes from a snippet file has its imports', () => {
  const missing: string[] = [];
  for (const page of [...pages, 'index.md']) {
    const text = readFileSync(join(docs, page), 'utf8');
    const seen = new Set<string>();
    for (const [, file, region] of text.matchAll(/<<< @\/(snippets\/[\w-]+\.ts)(?:#([\w-]+))?/g)) {
      if (seen.has(file!)) continue;
      seen.add(file!);
      if (!region) continue;
      const source = readFileSync(join(docs, file!), 'utf8');
      const body = new RegExp(`// #region ${region}\\n([\\s\\S]*?)// #endregion ${region}`).exec(source)?.[1];
      if (body === undefined) missing.push(`${page}: ${file}#${region} has no such region`);
      else if (/^import /m.test(source) && !/^import /m.test(body))
        missing.push(`${page}: ${file}#${region}`);
    }
  }
  expect(missing).toEqual([]);
  expect(pages.length).toBeGreaterThan(10);
});
