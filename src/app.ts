/**
 * The composition root: the only `new Redis`, `new Queue`, `createTransport`. Entry points
 * (CLI commands, the web server, workers) build an App from a Config and close it when done.
 * To add a component: create it in createApp, expose it on App, and push its close() onto
 * `closers` (closed in reverse order, so later components shut down before Redis).
 */
import { Redis } from 'ioredis';
import { createTransport, type Transporter } from 'nodemailer';
import type { Config } from './config.ts';
import { NewsletterError } from './errors.ts';
import { checkRedisSafety } from './redis-safety.ts';
import { SubscriberStore } from './subscribers/subscriber-store.ts';
import { Queue } from 'bullmq';
import type { BatchJobData } from './campaign/campaign.ts';
import { CampaignStore } from './campaign/campaign-store.ts';
import { DELIVERY_EVENTS_MAX_LEN, DELIVERY_QUEUE, deliveryJobOptions, deliveryQueuePrefix } from './delivery/delivery-queue.ts';
import { nodemailerTransport, type MessageTransport } from './delivery/transport.ts';
import { startDeliveryWorker, type DeliveryWorkerHandle, type StartWorkerOptions } from './delivery/start-delivery-worker.ts';
import { FleetCounters } from './metrics/fleet-counters.ts';
import { metricsRecorder } from './metrics/metric-tally.ts';

export interface App {
  readonly config: Config;
  readonly redis: Redis;
  readonly subscribers: SubscriberStore;
  /** A plain nodemailer transport for one-off mail (confirmations); throws SMTP_NOT_CONFIGURED without SMTP_URL. */
  mailer(): Transporter;
  readonly campaigns: CampaignStore;
  /** The delivery queue (BullMQ), created on first use. */
  deliveryQueue(): Queue<BatchJobData>;
  /** The pooled, DKIM-signing SMTP transport deliveries go through; throws SMTP_NOT_CONFIGURED without SMTP_URL. */
  smtpPool(): MessageTransport;
  /** A delivery worker in this process; app.close() stops it before SMTP and Redis. */
  startWorker(options?: StartWorkerOptions): DeliveryWorkerHandle;
  /** This process's counts for /metrics, added to the fleet's hash in Redis every METRICS_FLUSH_MS and on close. */
  fleetMetrics(): FleetCounters;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  /** Where start-up warnings go (the CLI prints them, the server logs them). */
  warn?: (message: string) => void;
}

/** A Redis URL without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

export async function createApp(config: Config, { warn = (m) => process.stderr.write(`warning: ${m}\n`) }: CreateAppOptions = {}): Promise<App> {
  const closers: (() => Promise<unknown> | void)[] = [];
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  // The first failure is reported once, below; later ones (reconnects) go to `warn`.
  let firstError: Error | undefined;
  const remember = (error: Error) => (firstError ??= error);
  redis.on('error', remember);
  try {
    await redis.connect();
    redis.off('error', remember).on('error', (error: Error) => warn(`Redis: ${error.message}`));
  } catch (cause) {
    redis.disconnect();
    const reason = (firstError ?? (cause as Error)).message;
    throw new NewsletterError('CONFIG_INVALID', `cannot connect to Redis at ${redactUrl(config.redis.url)}: ${reason}`, { field: 'REDIS_URL', cause });
  }
  closers.push(() => redis.quit());
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    const safety = await checkRedisSafety(redis);
    for (const message of safety.warnings) warn(message);
  } catch (error) {
    await close();
    throw error;
  }

  const subscribers = new SubscriberStore({ redis, prefix: config.redis.prefix });
  closers.push(() => subscribers.close());

  const smtpUrl = () => {
    if (!config.smtp.url) throw new NewsletterError('SMTP_NOT_CONFIGURED', 'set SMTP_URL to send email', { field: 'SMTP_URL' });
    return config.smtp.url;
  };
  let transport: Transporter | undefined;
  const mailer = () => {
    const url = smtpUrl();
    if (!transport) {
      transport = createTransport(url);
      closers.push(() => transport?.close());
    }
    return transport;
  };

  const campaigns = new CampaignStore({ redis, prefix: config.redis.prefix });
  let queue: Queue<BatchJobData> | undefined;
  const deliveryQueue = () => {
    if (!queue) {
      queue = new Queue<BatchJobData>(DELIVERY_QUEUE, {
        connection: redis,
        prefix: deliveryQueuePrefix(config.redis.prefix),
        defaultJobOptions: deliveryJobOptions(config.sending),
        streams: { events: { maxLen: DELIVERY_EVENTS_MAX_LEN } },
      });
      // Without a listener BullMQ prints every reconnect error; the app's Redis warns once per error already.
      queue.on('error', () => {});
      const opened = queue;
      closers.push(() => opened.close());
    }
    return queue;
  };
  let pool: MessageTransport | undefined;
  const smtpPool = () => {
    const url = smtpUrl();
    if (!pool) {
      // maxMessages: reconnecting every 100 messages (the default) costs throughput for nothing.
      const transporter = createTransport({
        url,
        pool: true,
        maxConnections: config.smtp.maxConnections,
        maxMessages: 10_000,
        connectionTimeout: config.smtp.timeoutMs,
        greetingTimeout: config.smtp.timeoutMs,
        socketTimeout: config.smtp.timeoutMs,
      });
      const opened = (pool = nodemailerTransport(transporter, { dkim: config.smtp.dkim }));
      closers.push(() => opened.close());
    }
    return pool;
  };
  let fleet: FleetCounters | undefined;
  const fleetMetrics = () => {
    if (!fleet) {
      const opened = (fleet = new FleetCounters({
        redis,
        prefix: config.redis.prefix,
        flushMs: config.metrics.flushMs,
        onError: (error) => warn(`metrics flush failed (kept for the next one): ${error.message}`),
      }));
      closers.push(() => opened.close());
    }
    return fleet;
  };
  const startWorker = (options: StartWorkerOptions = {}) => {
    const transport = smtpPool();
    const counters = fleetMetrics();
    // BullMQ workers block on their connection and need maxRetriesPerRequest: null.
    const connection = new Redis(config.redis.url, { maxRetriesPerRequest: null });
    closers.push(() => connection.quit());
    // Per-message ledger and subscriber reads of many deliveries in flight share round trips
    // (measured: ~80 us less CPU a message). Not on BullMQ's own connection, where it slows workers.
    const deliveryRedis = new Redis(config.redis.url, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
    closers.push(() => deliveryRedis.quit());
    const handle = startDeliveryWorker({
      config,
      connection,
      redis: deliveryRedis,
      subscribers: new SubscriberStore({ redis: deliveryRedis, prefix: config.redis.prefix }),
      campaigns: new CampaignStore({ redis: deliveryRedis, prefix: config.redis.prefix }),
      transport,
      metrics: metricsRecorder(counters.tally),
      options,
    });
    // Shutdown order: the worker drains, its counts go to Redis, then SMTP closes, then (later closers) its Redis connections.
    closers.push(async () => {
      await handle.stop();
      await counters.flush();
      await transport.close();
    });
    return handle;
  };

  return { config, redis, subscribers, mailer, close, campaigns, deliveryQueue, smtpPool, startWorker, fleetMetrics };
}
