import type { Command } from 'commander';
import { createApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { parseConcurrency, runWorkerUntilSignal } from '../../delivery/run-worker.ts';
import { NewsletterError } from '../../errors.ts';
import { createLogger } from '../../logger.ts';
import { signingSecrets } from '../../subscribers/signing-secrets.ts';

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
      const config = loadConfig();
      if (!config.smtp.url) throw new NewsletterError('SMTP_NOT_CONFIGURED', 'set SMTP_URL to deliver', { field: 'SMTP_URL' });
      signingSecrets(config); // refuse before connecting anywhere: the worker signs every unsubscribe link
      const log = createLogger(config, { name: 'delivery-worker' });
      await runWorkerUntilSignal(await createApp(config, { warn: (message) => log.warn(message) }), { concurrency, log });
    });
}
