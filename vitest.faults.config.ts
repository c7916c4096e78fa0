import { defineConfig } from 'vitest/config';

// `npm run test:faults`: each scenario starts its own redis-server, SMTP server and worker
// processes, so the files run one after another.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
