import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { parseConcurrency, runWorkerUntilSignal } from '../../delivery/run-worker.ts';
import { NewsletterError } from '../../errors.ts';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('Deliver queued campaigns until SIGTERM/SIGINT (then finish the messages in flight and exit 0); run one per core, on any number of hosts')
    .option('--concurrency <n>', 'messages in flight in this process (default WORKER_CONCURRENCY)')
    .action(async (flags: { concurrency?: string }) => {
      const concurrency = parseConcurrency(flags.concurrency);
      if (Number.isNaN(concurrency)) {
        throw new NewsletterError('INPUT_INVALID', 'needs a whole number from 1 to 1000', { field: '--concurrency' });
      }
      await runWorkerUntilSignal(loadConfig(), { concurrency });
    });
}
