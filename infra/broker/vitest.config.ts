import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources of every workspace package through the
// '@promstream/source' export condition, so no build is needed between edits.
export default defineConfig({
  resolve: { conditions: ['@promstream/source'] },
  ssr: { resolve: { conditions: ['@promstream/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
