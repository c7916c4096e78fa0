import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { parseConcurrency, runDeliveryWorker } from '../../processes/delivery-worker.ts';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('Deliver queued campaigns until SIGTERM/SIGINT (then finish the messages in flight and exit 0); run one per core, on any number of hosts')
    .option('--concurrency <n>', 'messages in flight in this process (default WORKER_CONCURRENCY)')
    .action(async (flags: { concurrency?: string }) => {
      await runDeliveryWorker(loadConfig(), { concurrency: parseConcurrency(flags.concurrency) });
    });
}
