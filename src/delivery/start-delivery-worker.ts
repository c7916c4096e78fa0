/**
 * Wires one delivery worker from parts the composition root already made: the batch
 * processor (ledger, rate limit, SMTP) and a BullMQ Worker. stop() is the graceful half
 * of shutdown: no new jobs, in-flight messages finish, unsent rest goes back to the queue.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { BatchJobData } from '../campaign/campaign.ts';
import type { CampaignStore } from '../campaign/campaign-store.ts';
import { isNewsletterError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { DeliveryMetrics } from '../metrics/metric-tally.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';
import { createBatchProcessor, type BatchSummary } from './batch-processor.ts';
import { createDeliveryWorker } from './delivery-worker.ts';
import { DeliveryLedger } from './ledger.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { RecipientDirectory } from './recipient-directory.ts';
import { Semaphore } from './semaphore.ts';
import type { MessageTransport } from './transport.ts';

export interface StartWorkerOptions {
  /** Messages in flight in this process (default WORKER_CONCURRENCY). */
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  pausePollMs?: number;
  /** Structured events (batches, failures, worker errors); none without. */
  log?: Logger;
}

export interface DeliveryWorkerHandle {
  readonly worker: Worker<BatchJobData, BatchSummary>;
  /** Idempotent. */
  stop(): Promise<void>;
}

export interface StartDeliveryWorkerDeps {
  config: Config;
  connection: Redis;
  redis: Redis;
  subscribers: RecipientDirectory;
  campaigns: CampaignStore;
  transport: MessageTransport;
  metrics?: DeliveryMetrics;
  options: StartWorkerOptions;
}

export function startDeliveryWorker(deps: StartDeliveryWorkerDeps): DeliveryWorkerHandle {
  const { config, redis, options } = deps;
  const prefix = config.redis.prefix;
  let stopping = false;
  const concurrency = options.concurrency ?? config.sending.concurrency;
  const processor = createBatchProcessor({
    campaigns: deps.campaigns,
    ledger: new DeliveryLedger({ redis, prefix }),
    directory: deps.subscribers,
    transport: deps.transport,
    rateLimiter: config.sending.ratePerSecond > 0 ? new RateLimiter({ redis, prefix, perSecond: config.sending.ratePerSecond }) : undefined,
    identity: config.identity,
    secrets: signingSecrets(config),
    publicUrl: config.http.publicUrl,
    inFlight: new Semaphore(concurrency),
    pausePollMs: options.pausePollMs ?? 5_000,
    stopping: () => stopping,
    now: () => new Date(),
    metrics: deps.metrics,
    log: options.log,
  });
  const worker = createDeliveryWorker({
    connection: deps.connection,
    prefix,
    processor,
    // Enough batches to keep `concurrency` messages in flight across a batch's tail.
    batchConcurrency: Math.max(2, Math.ceil(concurrency / 50) + 1),
    lockDurationMs: options.lockDurationMs ?? config.sending.lockMs,
    stalledIntervalMs: options.stalledIntervalMs,
  });
  const log = options.log;
  // Errors of single jobs are handled (retried, recorded); this only keeps a Redis blip from crashing the process.
  worker.on('error', (error) => log?.warn({ err: error }, 'worker error'));
  // Deferrals are logged by the batch; anything else that fails a batch is unexpected.
  worker.on('failed', (job, error) => {
    if (isNewsletterError(error, 'SMTP_DEFERRED')) return;
    log?.error({ campaignId: job?.data.c, jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'batch failed');
  });
  worker.on('stalled', (jobId) => log?.warn({ jobId }, 'batch stalled: its worker stopped answering, so it runs again'));
  let stopped: Promise<void> | undefined;
  return {
    worker,
    stop() {
      stopping = true;
      stopped ??= worker.close();
      return stopped;
    },
  };
}
