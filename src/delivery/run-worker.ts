/**
 * A delivery worker that runs until SIGTERM or SIGINT, then shuts down in order: stop
 * taking jobs, finish the messages in flight, flush its metrics, close SMTP, then Redis.
 * The one body of `newsletter worker` and workers/delivery-worker.ts.
 */
import { createApp, type App } from '../app.ts';
import type { Config } from '../config.ts';
import { NewsletterError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';

/**
 * Refuses a worker that could not deliver before connecting anywhere (no SMTP_URL; no secret
 * to sign every message's unsubscribe link), then runs it. Resolves once the worker has
 * stopped and the app is closed.
 */
export async function runWorkerUntilSignal(config: Config, { concurrency }: { concurrency?: number } = {}): Promise<void> {
  if (!config.smtp.url) throw new NewsletterError('SMTP_NOT_CONFIGURED', 'set SMTP_URL to deliver', { field: 'SMTP_URL' });
  signingSecrets(config);
  const log = createLogger(config, { name: 'delivery-worker' });
  const app = await createApp(config, { warn: (message) => log.warn(message) });
  let handle: ReturnType<App['startWorker']>;
  try {
    handle = app.startWorker({ concurrency, log });
  } catch (error) {
    // Its Redis connections are open already; left open, they keep the process alive after the error.
    await app.close();
    throw error;
  }
  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'worker stopping: finishing the messages in flight');
      handle
        .stop()
        .then(() => app.close())
        .then(() => {
          log.info('worker stopped');
          resolve();
        }, reject);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    handle.worker.waitUntilReady().then(() => log.info({ concurrency: concurrency ?? app.config.sending.concurrency }, 'worker ready'), reject);
  });
}

export function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n <= 1000 ? n : Number.NaN;
}
