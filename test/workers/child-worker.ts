/** A delivery worker in a child process for crash tests: short locks, so a killed worker's batch comes back fast. */
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';

const app = await createApp(loadConfig(), { warn: () => {} });
const handle = app.startWorker({ lockDurationMs: 1_000, stalledIntervalMs: 300 });
await handle.worker.waitUntilReady();
process.stdout.write('ready\n');
