import { defineConfig } from 'vitest/config';

// One run over every workspace's tests. Packages are imported from their built `dist`
// (what users install), so `npm test` builds first.
export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'docs/test/**/*.test.ts',
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
