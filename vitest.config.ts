import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['sync/**/*.test.ts', 'server/**/*.test.ts', 'client/**/*.test.ts', 'test/**/*.test.ts'],
    // Suites start real servers and databases; a slow shared machine must not turn that into flakes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
