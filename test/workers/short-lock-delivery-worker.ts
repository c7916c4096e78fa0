/** A delivery worker in a child process for crash tests: short locks, so a killed worker's batch comes back fast. */
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { buildDeliveryWorker } from '../../src/processes/delivery-worker.ts';

const app = await createApp(loadConfig(), { warn: () => {} });
await buildDeliveryWorker(app, { lockDurationMs: 1_000, stalledIntervalMs: 300 }).worker.waitUntilReady();
process.stdout.write('ready\n');
