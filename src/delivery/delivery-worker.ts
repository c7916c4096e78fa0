/**
 * A BullMQ Worker on the delivery queue, and its orderly stop: stop taking jobs, let the
 * messages in flight finish (batches hand their unsent rest back to the queue), then the
 * caller closes SMTP and Redis.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BatchJobData } from '../campaign/campaign.ts';
import { DELIVERY_QUEUE, deliveryQueuePrefix } from './delivery-queue.ts';
import type { BatchSummary } from './batch-processor.ts';

export interface DeliveryWorkerOptions {
  /** A connection with maxRetriesPerRequest: null, as BullMQ workers need. */
  connection: Redis;
  prefix: string;
  processor: (job: Job<BatchJobData>, token?: string) => Promise<BatchSummary>;
  /** Batch jobs at once; messages in flight are limited by the processor's semaphore. */
  batchConcurrency?: number;
  /** How soon a job whose worker died (SIGKILL) goes back to the queue. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export function createDeliveryWorker(options: DeliveryWorkerOptions): Worker<BatchJobData, BatchSummary> {
  const lockDuration = options.lockDurationMs ?? 30_000;
  return new Worker<BatchJobData, BatchSummary>(DELIVERY_QUEUE, options.processor, {
    connection: options.connection,
    prefix: deliveryQueuePrefix(options.prefix),
    concurrency: options.batchConcurrency ?? 3,
    lockDuration,
    stalledInterval: options.stalledIntervalMs ?? lockDuration,
    // A crash is not the batch's fault: the ledger makes re-running it safe, so let it run again.
    maxStalledCount: 100,
    removeOnComplete: { count: 0 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
}
