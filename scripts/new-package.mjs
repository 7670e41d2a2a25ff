// One-off scaffolder kept for future packages: writes package.json and tsconfig.json.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

const [name, description, refs = ''] = process.argv.slice(2);
const dir = `packages/${name}`;
mkdirSync(`${dir}/src`, { recursive: true });
const pkg = {
  name: `@oncelock/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  engines: { node: '>=20.19' },
  sideEffects: false,
  exports: {
    '.': { types: './dist/index.d.ts', default: './dist/index.js' },
    './package.json': './package.json',
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', 'src', 'README.md'],
  scripts: { build: 'tsc -b', typecheck: 'tsc -p tsconfig.test.json --noEmit' },
  keywords: ['lock', 'lease', 'mutex', 'once', 'background-jobs', 'fencing'],
};
if (!existsSync(`${dir}/package.json`))
  writeFileSync(`${dir}/package.json`, `${JSON.stringify(pkg, null, 2)}\n`);
const references = refs ? refs.split(',').map((r) => ({ path: `../${r}` })) : [];
writeFileSync(
  `${dir}/tsconfig.json`,
  `${JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'], references }, null, 2)}\n`,
);
writeFileSync(
  `${dir}/tsconfig.test.json`,
  `${JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, rootDir: '.' }, include: ['src', 'test'] }, null, 2)}\n`,
);
