import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Load tests measure timing: two of them at once on a 2-core machine would
    // measure each other. Files run one at a time; tests inside a file in order.
    fileParallelism: false,
    reporters: ['default', './test/helpers/plain-summary-reporter.ts'],
    setupFiles: ['./test/helpers/cleanup.ts'],
  },
});
