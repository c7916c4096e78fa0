import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault scenarios start their own Redis, SMTP server and worker processes: `npm run test:faults`.
    exclude: ['**/node_modules/**', 'test/faults/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: two worker processes, each running its files one after another in the same
    // module graph. Measured on this machine (56 files): without isolation the app's modules
    // (mjml, BullMQ, fastify) load once per worker instead of once per file, which took the
    // suite from ~105 s to ~50 s of CPU; threads cost the same as forks, and a third worker
    // only added contention. Every test builds its own state (a Redis prefix, servers on
    // port 0), so files do not need a fresh module graph.
    pool: 'forks',
    isolate: false,
    maxWorkers: 2,
  },
});
