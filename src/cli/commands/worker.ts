import type { Command } from 'commander';
import { parseConcurrency, runDeliveryWorker } from '../../processes/delivery-worker.ts';
import type { CliRun } from '../cli-io.ts';
import { cliConfig } from '../command-helpers.ts';

export function registerWorkerCommand(program: Command, { io }: CliRun): void {
  program
    .command('worker')
    .description('Deliver queued campaigns until SIGTERM/SIGINT (then finish the messages in flight and exit 0); run one per core, on any number of hosts')
    .option('--concurrency <n>', 'messages in flight in this process (default WORKER_CONCURRENCY)')
    .action(async (flags: { concurrency?: string }) => {
      await runDeliveryWorker(cliConfig(io), { concurrency: parseConcurrency(flags.concurrency) });
    });
}
