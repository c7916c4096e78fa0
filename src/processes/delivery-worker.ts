/**
 * The delivery worker process (`newsletter worker`, workers/delivery-worker.ts): a BullMQ
 * Worker on the delivery queue whose processor delivers each batch. buildDeliveryWorker
 * wires it from an App (the tests run it in-process the same way); runDeliveryWorker is the
 * whole process, until SIGTERM/SIGINT.
 *
 * stop() is the graceful half of shutdown: no new batches, the messages in flight finish,
 * the unsent rest of each batch goes back to the queue; the App then flushes the metrics
 * and closes SMTP and Redis.
 */
import { Worker } from 'bullmq';
import { createApp, type App } from '../app.ts';
import type { BatchJobData } from '../campaign/campaign.ts';
import type { Config } from '../config.ts';
import { createBatchProcessor, type BatchSummary } from '../delivery/batch-processor.ts';
import { DELIVERY_QUEUE, deliveryQueuePrefix } from '../delivery/delivery-queue.ts';
import { DeliveryLedger } from '../delivery/ledger.ts';
import { RateLimiter } from '../delivery/rate-limiter.ts';
import { Semaphore } from '../delivery/semaphore.ts';
import { isNewsletterError, NewsletterError } from '../errors.ts';
import { createLogger, type Logger } from '../logger.ts';
import { metricsRecorder } from '../metrics/metric-tally.ts';
import { CampaignStore } from '../campaign/campaign-store.ts';
import { SubscriberStore } from '../subscribers/subscriber-store.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';
import { startScheduler } from './scheduler.ts';
import { runUntilSignal } from './until-signal.ts';

export interface DeliveryWorkerOptions {
  /** Messages in flight in this process (default WORKER_CONCURRENCY). */
  concurrency?: number;
  /** How soon a batch whose worker died (SIGKILL) goes back to the queue (default WORKER_LOCK_MS). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How long a paused batch waits before it looks again (resume also wakes it). */
  pausePollMs?: number;
  /** How long a batch waits when Redis or the relay failed before the breaker set a pause (default 5 s). */
  retryWaitMs?: number;
  /** Structured events (batches, failures, worker errors); none without. */
  log?: Logger;
}

export interface DeliveryWorker {
  readonly worker: Worker<BatchJobData, BatchSummary>;
  /** Idempotent. */
  stop(): Promise<void>;
}

/** The delivery worker, running in this process from now on; closing the App stops it first. */
export function buildDeliveryWorker(app: App, options: DeliveryWorkerOptions = {}): DeliveryWorker {
  const { config } = app;
  const { prefix } = config.redis;
  const concurrency = options.concurrency ?? config.sending.concurrency;
  const transport = app.smtpPool();
  const redis = app.connection('pipelined');
  let stopping = false;
  // Batches whose lock this worker failed to renew: they may be another worker's now.
  const lostLocks = new Set<string>();
  const processor = createBatchProcessor({
    campaigns: new CampaignStore({ redis, prefix }),
    ledger: new DeliveryLedger({ redis, prefix, replicaWait: app.replicaWait(redis) }),
    directory: new SubscriberStore({ redis, prefix, replicaWait: app.replicaWait(redis) }),
    transport,
    rateLimiter: config.sending.ratePerSecond > 0 ? new RateLimiter({ redis, prefix, perSecond: config.sending.ratePerSecond }) : undefined,
    identity: config.identity,
    secrets: signingSecrets(config),
    publicUrl: config.http.publicUrl,
    bounceDomain: config.bounces.domain,
    inFlight: new Semaphore(concurrency),
    pausePollMs: options.pausePollMs ?? 5_000,
    retryWaitMs: options.retryWaitMs,
    stopping: () => stopping,
    lockLost: (jobId) => lostLocks.has(jobId),
    now: () => new Date(),
    metrics: metricsRecorder(app.fleetMetrics().tally),
    relay: app.relay,
    pace: app.pace,
    groups: app.receivingGroups(),
    log: options.log,
  });
  const lockDuration = options.lockDurationMs ?? config.sending.lockMs;
  const worker = new Worker<BatchJobData, BatchSummary>(DELIVERY_QUEUE, processor, {
    connection: app.connection('blocking'),
    prefix: deliveryQueuePrefix(prefix),
    // Enough batches to keep `concurrency` messages in flight across a batch's tail; the
    // processor's semaphore limits the messages.
    concurrency: Math.max(2, Math.ceil(concurrency / 50) + 1),
    lockDuration,
    stalledInterval: options.stalledIntervalMs ?? lockDuration,
    // A crash is not the batch's fault: the ledger makes re-running it safe, so let it run again.
    maxStalledCount: 100,
    removeOnComplete: { count: 0 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  const { log } = options;
  // Errors of single jobs are handled (retried, recorded); this only keeps a Redis blip from crashing the process.
  worker.on('error', (error) => log?.warn({ err: error }, 'worker error'));
  // Deferrals are logged by the batch; anything else that fails a batch is unexpected.
  worker.on('failed', (job, error) => {
    if (isNewsletterError(error, 'SMTP_DEFERRED')) return;
    log?.error({ campaignId: job?.data.campaignId, jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'batch failed');
  });
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) lostLocks.add(id);
    log?.warn({ jobIds }, 'could not renew batch locks (the process stalled?): no new messages for those batches');
  });
  worker.on('completed', (job) => lostLocks.delete(job.id ?? ''));
  worker.on('failed', (job) => lostLocks.delete(job?.id ?? ''));
  worker.on('stalled', (jobId) => log?.warn({ jobId }, 'batch stalled: its worker stopped answering, so it runs again'));
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopping = true;
    stopped ??= worker.close();
    return stopped;
  };
  // Another worker's pause is seen within a second; a failed first read is retried by the next.
  app.relay.watch().catch(() => {});
  app.pace.watch().catch(() => {});
  app.onClose(async () => {
    await stop();
    app.relay.close();
    app.pace.close();
  });
  return { worker, stop };
}

/**
 * The whole process: refuses a worker that could not deliver before connecting anywhere (no
 * SMTP_URL; no secret to sign every message's unsubscribe link), runs until SIGTERM/SIGINT,
 * then finishes the messages in flight and closes everything. Resolves once it has.
 */
export async function runDeliveryWorker(config: Config, { concurrency }: { concurrency?: number } = {}): Promise<void> {
  if (!config.smtp.url) throw new NewsletterError('SMTP_NOT_CONFIGURED', 'set SMTP_URL to deliver', { field: 'SMTP_URL' });
  signingSecrets(config);
  const log = createLogger(config, { name: 'delivery-worker' });
  const app = await createApp(config, { warn: (message) => log.warn(message) });
  await runUntilSignal({
    what: 'worker',
    log,
    async start() {
      await buildDeliveryWorker(app, { concurrency, log }).worker.waitUntilReady();
      // Registered after the worker, so it stops first at close (close runs in reverse).
      startScheduler(app, { log });
      log.info({ concurrency: concurrency ?? config.sending.concurrency }, 'worker ready');
    },
    stop: () => app.close(),
  });
}

/** `--concurrency`: a whole number from 1 to 1000, or undefined for the setting's value. */
export function parseConcurrency(value: string | undefined, field = '--concurrency'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (Number.isInteger(n) && n > 0 && n <= 1000) return n;
  throw new NewsletterError('INPUT_INVALID', 'needs a whole number from 1 to 1000', { field });
}
