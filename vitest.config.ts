import { defineConfig } from 'vitest/config';

// `npm test` runs every package's suite in one vitest run, so the closing
// summary counts them all; each package keeps its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: [
      'log',
      'schemas',
      'storage',
      'ingest',
      'stream-processors',
      'query',
      'infra/broker',
      'infra',
      'testkit',
      'tests',
    ],
    reporters: ['default', './testkit/src/summary-reporter.ts'],
  },
});
