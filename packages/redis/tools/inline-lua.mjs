// Writes src/lua.generated.ts from scripts/*.lua: each script's text and SHA-1 as strings, so
// that the built package carries its Lua inside its JavaScript. An app bundled into one file
// (esbuild, webpack, a serverless bundle) then has no script files to find at run time.
// Run by the package's build and typecheck scripts; the output is not in git.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const dir = new URL('../scripts/', import.meta.url);
const out = new URL('../src/lua.generated.ts', import.meta.url);

const entries = readdirSync(dir)
  .filter((file) => file.endsWith('.lua'))
  .sort()
  .map((file) => {
    // `acquire-5.lua` is the script `acquire`, `extend-permits-3n.lua` is `extendPermits`; the
    // number is its KEYS count (`2n`: two per item).
    const words = /^([a-z]+(?:-[a-z]+)*)-(\d+n?)\.lua$/.exec(file)?.[1];
    if (!words) throw new Error(`scripts/${file}: a script is named <name>-<numkeys>.lua`);
    const name = words.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    const source = readFileSync(new URL(file, dir), 'utf8');
    const sha = createHash('sha1').update(source).digest('hex');
    return `/** scripts/${file}: its text, and the SHA-1 that EVALSHA calls it by. */\nexport const ${name} = {\n  file: '${file}',\n  sha: '${sha}',\n  source: ${JSON.stringify(source)},\n} as const;\n`;
  });

const text = `// Generated from scripts/*.lua by tools/inline-lua.mjs when the package builds: do not edit.\n\n${entries.join('\n')}`;
// Rewritten only when a script changed, so that tsc -b sees nothing new otherwise.
let before = '';
try {
  before = readFileSync(out, 'utf8');
} catch {}
if (before !== text) writeFileSync(out, text);
