import { transform } from 'esbuild';
import { defineConfig, type Plugin } from 'vitest/config';

// Vite 8 transforms TypeScript with Oxc, which does not lower TC39 (TypeScript 5+) decorators.
// Test files that use them go through esbuild first, which does.
const lowerDecorators: Plugin = {
  name: 'oncelock:lower-decorators',
  enforce: 'pre',
  async transform(code, id) {
    if (!id.endsWith('.ts') || !/^\s*@\w/m.test(code)) return null;
    const out = await transform(code, { loader: 'ts', target: 'es2022', sourcemap: true, sourcefile: id });
    return { code: out.code, map: out.map };
  },
};

// One run over every workspace's tests. Packages are imported from their built `dist`
// (what users install), so `npm test` builds first.
export default defineConfig({
  plugins: [lowerDecorators],
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'docs/test/**/*.test.ts',
      'reliability/test/**/*.test.ts',
    ],
    pool: 'forks',
    // Two cores: more parallel files only make timing-sensitive lock tests noisy.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.test-results/vitest.json' },
  },
});
