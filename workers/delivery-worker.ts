/**
 * A delivery worker process: `node bin/run-ts.js workers/delivery-worker.ts [--concurrency N]`
 * (the same as `newsletter worker`). Run one per core, on as many hosts as you like; they
 * share the work through Redis. SIGTERM/SIGINT: stop taking jobs, finish the messages in
 * flight, close SMTP, then Redis, exit 0.
 */
import { formatError } from '../src/cli/run-action.ts';
import { loadConfig } from '../src/config.ts';
import { parseConcurrency, runDeliveryWorker } from '../src/processes/delivery-worker.ts';

try {
  const at = process.argv.indexOf('--concurrency');
  await runDeliveryWorker(loadConfig(), { concurrency: parseConcurrency(at > 0 ? process.argv[at + 1] : undefined) });
  process.exit(0);
} catch (error) {
  process.stderr.write(`delivery-worker: ${formatError(error)}\n`);
  process.exit(1);
}
