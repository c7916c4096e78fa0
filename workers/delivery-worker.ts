/**
 * A delivery worker process: `node bin/run-ts.js workers/delivery-worker.ts [--concurrency N]`.
 * Run one per core, on as many hosts as you like; they share the work through Redis.
 * SIGTERM/SIGINT: stop taking jobs, finish the messages in flight, close SMTP, then Redis, exit 0.
 */
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { formatError } from '../src/cli/run-action.ts';

const flag = process.argv.indexOf('--concurrency');
const concurrency = flag > 0 ? Number(process.argv[flag + 1]) : undefined;
if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
  process.stderr.write('delivery-worker: --concurrency needs a positive whole number\n');
  process.exit(1);
}

try {
  const app = await createApp(loadConfig());
  const handle = app.startWorker({ concurrency });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`delivery-worker ${process.pid}: ${signal}, finishing messages in flight\n`);
    await handle.stop();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await handle.worker.waitUntilReady();
  process.stderr.write(`delivery-worker ${process.pid}: ready\n`);
} catch (error) {
  process.stderr.write(`delivery-worker: ${formatError(error)}\n`);
  process.exit(1);
}
