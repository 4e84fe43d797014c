import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Pothos and yoga load graphql as CommonJS; make test code use that same instance.
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}'],
    // the dashboard's end-to-end tests drive its build, and tests that start a server process
    // start it as `npm start` does: both builds are redone here when their sources changed
    globalSetup: [
      'test/support/global-setup.ts',
      'test/web/build-dashboard.ts',
      'scripts/ensure-server-build.mjs',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite instances are heavy; two workers match the two cores of our machines.
    maxWorkers: 2,
  },
});
