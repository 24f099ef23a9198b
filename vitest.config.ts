import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Live tests start real processes and compare with the kernel; forks keep each file's memory apart.
    pool: 'forks',
    testTimeout: 30_000,
    // The JSON report lets .ci/run print one plain "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: 'node_modules/.cache/vitest-results.json' }]],
    hookTimeout: 30_000,
  },
});
