/**
 * The one BullMQ queue of deliveries: its name, key prefix and job defaults.
 * The prefix carries a hash tag, so every key of the queue sits in one Redis Cluster slot.
 */
import type { JobsOptions } from 'bullmq';
import type { Config } from '../config.ts';

export const DELIVERY_QUEUE = 'deliveries';

export function deliveryQueuePrefix(prefix: string): string {
  return `${prefix}:{${prefix}}:q`;
}

/** Completed jobs vanish at once; failed ones stay a week for `campaign resume` to retry. */
export function deliveryJobOptions(sending: Config['sending']): JobsOptions {
  return {
    attempts: sending.attempts,
    backoff: { type: 'exponential', delay: sending.backoffMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** The events stream is only for live watchers: keep it short so Redis stays bounded. */
export const DELIVERY_EVENTS_MAX_LEN = 100;
