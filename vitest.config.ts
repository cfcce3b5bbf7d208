import { defineConfig } from 'vitest/config'

// Tests import the workspace packages by name, i.e. their compiled dist/ (built by
// `tsc -b` in the test script), exactly as users and forked workers do.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // 2-core machines: process-heavy suites run two files at a time.
    maxWorkers: 2,
    minWorkers: 1,
  },
})
