/**
 * A delivery worker that runs until SIGTERM or SIGINT, then shuts down in order: stop
 * taking jobs, finish the messages in flight, flush its metrics, close SMTP, then Redis.
 * Used by `newsletter worker` and by workers/delivery-worker.ts.
 */
import type { App } from '../app.ts';
import { createLogger, type Logger } from '../logger.ts';

export interface RunWorkerOptions {
  concurrency?: number;
  /** Default: JSON lines on stderr at LOG_LEVEL. */
  log?: Logger;
}

/** Resolves once the worker has stopped and the app is closed. */
export async function runWorkerUntilSignal(app: App, { concurrency, log = createLogger(app.config, { name: 'delivery-worker' }) }: RunWorkerOptions = {}): Promise<void> {
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
    handle.worker.waitUntilReady().then(
      () => log.info({ concurrency: concurrency ?? app.config.sending.concurrency }, 'worker ready'),
      reject,
    );
  });
}

export function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n <= 1000 ? n : Number.NaN;
}
