import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    globalSetup: ['./tests/helpers/global-setup.ts'],
    reporters: ['default', './tests/helpers/summary-reporter.ts'],
    // The code under test logs JSON lines to stderr (packages/core/src/log.ts); vitest keeps each
    // test's console output and prints it only when that test (or its file) fails.
    silent: 'passed-only',
    include: ['tests/**/*.test.ts', 'packages/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
  },
})
