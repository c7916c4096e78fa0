/**
 * A delivery worker that runs until SIGTERM or SIGINT, then shuts down in order: stop
 * taking jobs, finish the messages in flight, close SMTP, then Redis. Used by
 * `newsletter worker` and by workers/delivery-worker.ts.
 */
import type { App } from '../app.ts';

export interface RunWorkerOptions {
  concurrency?: number;
  log?: (line: string) => void;
}

/** Resolves once the worker has stopped and the app is closed. */
export async function runWorkerUntilSignal(app: App, { concurrency, log = (l) => process.stderr.write(`${l}\n`) }: RunWorkerOptions = {}): Promise<void> {
  const handle = app.startWorker({ concurrency });
  const name = `delivery-worker ${process.pid}`;
  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${name}: ${signal}, finishing the messages in flight`);
      handle
        .stop()
        .then(() => app.close())
        .then(() => {
          log(`${name}: stopped`);
          resolve();
        }, reject);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    handle.worker.waitUntilReady().then(
      () => log(`${name}: ready, ${concurrency ?? app.config.sending.concurrency} messages in flight at most`),
      reject,
    );
  });
}

export function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n <= 1000 ? n : Number.NaN;
}
