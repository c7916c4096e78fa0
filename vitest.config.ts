import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault scenarios start their own Redis, SMTP server and worker processes: `npm run test:faults`.
    exclude: ['**/node_modules/**', 'test/faults/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: keep the process count low so Redis/SMTP tests don't starve each other.
    maxWorkers: 2,
  },
});
