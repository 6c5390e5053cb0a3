import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers and child processes; two cores, so keep it modest.
    maxWorkers: 2,
    // Off unless asked for (--coverage, or GOVCTL_COVERAGE=1 as .ci/run does): G1 of
    // gates/govctl-ci.json reads coverage/coverage-summary.json. Only code that runs in the test
    // processes is counted, not the built CLI or server children the tests spawn.
    coverage: {
      enabled: process.env['GOVCTL_COVERAGE'] === '1',
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary', 'lcov'],
      reportsDirectory: 'coverage',
    },
  },
});
