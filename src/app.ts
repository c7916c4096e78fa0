/**
 * The composition root: the only `new Redis`, `new Queue` and `createTransport`. An App is
 * the clients and stores one process shares, opened from a Config; the process modules in
 * src/processes/ build the web server, the delivery worker, the preview and the demo from it.
 * Clients other than the main Redis connection open on first use, so a command that only
 * reads campaigns never creates the queue or an SMTP pool.
 *
 * Shutdown: close() runs the closers in reverse order of registration, so what was built on
 * top (a worker registered with onClose) stops before the SMTP pool, and Redis goes last.
 */
import { Queue } from 'bullmq';
import { createTransport, type Transporter } from 'nodemailer';
import type { BatchJobData } from './campaign/campaign.ts';
import { CampaignStore } from './campaign/campaign-store.ts';
import type { Config } from './config.ts';
import { DELIVERY_EVENTS_MAX_LEN, DELIVERY_QUEUE, deliveryJobOptions, deliveryQueuePrefix } from './delivery/delivery-queue.ts';
import { DomainPace } from './delivery/domain-pace.ts';
import { ReceivingGroups } from './delivery/receiving-groups.ts';
import { RelayBreaker } from './delivery/relay-breaker.ts';
import { createDnsLookup } from './doctor/adapters/dns-resolver.ts';
import { failed } from './doctor/dns-lookup.ts';
import { nodemailerTransport, type MessageTransport } from './delivery/transport.ts';
import { NewsletterError } from './errors.ts';
import { RETURNED_MAIL_QUEUE, type ReturnedMail } from './inbound/returned-mail-queue.ts';
import { FleetCounters } from './metrics/fleet-counters.ts';
import type { RedisClient } from './redis/redis-client.ts';
import { openRedis, primariesOf } from './redis/redis-connection.ts';
import { describeTopology, type RedisTopology } from './redis/redis-topology.ts';
import { ReplicaWait } from './redis/replica-wait.ts';
import { checkRedisSafety, type RedisSafetyReport } from './redis-safety.ts';
import { SubscriberStore } from './subscribers/subscriber-store.ts';

/**
 * - `blocking`: BullMQ workers block on their connection and need maxRetriesPerRequest: null.
 * - `pipelined`: many deliveries in flight share round trips (measured: ~80 us less CPU a
 *   message). Never BullMQ's own connection, where auto-pipelining slows workers.
 */
export type ConnectionKind = 'blocking' | 'pipelined';

export interface App {
  readonly config: Config;
  readonly redis: RedisClient;
  readonly subscribers: SubscriberStore;
  readonly campaigns: CampaignStore;
  /** The fleet's relay breaker (its state in Redis); a delivery worker watches it. */
  readonly relay: RelayBreaker;
  /** Each receiving group's pace for the fleet (its state in Redis); a delivery worker watches it. */
  readonly pace: DomainPace;
  /** Recipients' domains to pacing groups, by MX through DNS_SERVERS (cached in this process). */
  receivingGroups(): ReceivingGroups;
  /** A plain nodemailer transport for one-off mail (confirmations); throws SMTP_NOT_CONFIGURED without SMTP_URL. */
  mailer(): Transporter;
  /** The delivery queue (BullMQ). */
  deliveryQueue(): Queue<BatchJobData>;
  /** What came back by mail, kept until it is applied (inbound/returned-mail-queue.ts). */
  returnedMailQueue(): Queue<ReturnedMail>;
  /** The pooled, DKIM-signing SMTP transport deliveries go through; throws SMTP_NOT_CONFIGURED without SMTP_URL. */
  smtpPool(): MessageTransport;
  /** This process's counts for /metrics, added to the fleet's hash in Redis every METRICS_FLUSH_MS and on close. */
  fleetMetrics(): FleetCounters;
  /** A further Redis connection for a long-lived consumer, closed with the app. */
  connection(kind: ConnectionKind): RedisClient;
  /**
   * Waits for a replica to hold the writes `client` made (batched per tick), where the
   * deployment has replicas and REDIS_WAIT_REPLICAS=1: the ledger and status changes use it.
   */
  replicaWait(client: RedisClient): ReplicaWait;
  /** Runs first at close(): before everything opened so far (a process stops taking work before its clients go). */
  onClose(closer: Closer): void;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  /** Where start-up warnings go (the CLI prints them, the servers log them). */
  warn?: (message: string) => void;
  /** `newsletter doctor` reports an unsafe Redis as a finding instead of refusing it. */
  checkRedisSafety?: boolean;
}

type Closer = () => Promise<unknown> | void;

/** Connects, or throws one CONFIG_INVALID naming REDIS_URL; later errors (reconnects) go to `warn`. */
async function connectRedis(topology: RedisTopology, warn: (message: string) => void): Promise<RedisClient> {
  const redis = openRedis(topology, 'main', { lazyConnect: true });
  let firstError: Error | undefined;
  const remember = (error: Error) => (firstError ??= error);
  redis.on('error', remember);
  try {
    await redis.connect();
  } catch (cause) {
    redis.disconnect();
    const reason = (firstError ?? (cause as Error)).message;
    // The sentinels themselves refused us (requirepass on them): their password is the setting to fix.
    const sentinelsRefused = topology.kind === 'sentinel' && /^All sentinels are unreachable.*\b(NOAUTH|WRONGPASS)\b/.test(reason);
    throw new NewsletterError('CONFIG_INVALID', `cannot connect to Redis at ${describeTopology(topology)}: ${reason}`, {
      field: sentinelsRefused ? 'REDIS_SENTINEL_PASSWORD' : 'REDIS_URL',
      cause,
    });
  }
  redis.off('error', remember).on('error', (error: Error) => warn(`Redis: ${error.message}`));
  return redis;
}

/** The start-up checks on every node that takes writes (each master of a Cluster; Sentinel's current primary): the first refusal, every warning once. */
async function checkEveryPrimary(redis: RedisClient): Promise<string[]> {
  const primaries = primariesOf(redis);
  const reports: RedisSafetyReport[] = [];
  for (const node of primaries) {
    try {
      reports.push(await checkRedisSafety(node));
    } catch (error) {
      if (primaries.length > 1 && error instanceof NewsletterError) error.message = `${node.options.host}:${node.options.port}: ${error.message}`;
      throw error;
    }
  }
  return [...new Set(reports.flatMap((report) => report.warnings))];
}

function smtpUrlOf(config: Config): string {
  if (!config.smtp.url) throw new NewsletterError('SMTP_NOT_CONFIGURED', 'set SMTP_URL to send email', { field: 'SMTP_URL' });
  return config.smtp.url;
}

/** SMTP_TLS_ALLOW_SELF_SIGNED: the same for every client of the relay, so `newsletter doctor` judges its certificate as the workers will. */
function tlsOptions(config: Config): { tls?: { rejectUnauthorized: false } } {
  return config.smtp.allowSelfSigned ? { tls: { rejectUnauthorized: false } } : {};
}

/**
 * The delivery pool. maxMessages: reconnecting every 100 messages (nodemailer's default) costs
 * throughput for nothing. The transport times each step of a send itself (the reply to the end
 * of the message gets longer); the socket timeout only has to outlast them.
 */
function createSmtpPool(config: Config): MessageTransport {
  const { timeoutMs, dataTimeoutMs } = config.smtp;
  const transporter = createTransport({
    url: smtpUrlOf(config),
    pool: true,
    maxConnections: config.smtp.maxConnections,
    maxMessages: 10_000,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: Math.max(timeoutMs, dataTimeoutMs),
    ...tlsOptions(config),
  });
  return nodemailerTransport(transporter, { dkim: config.smtp.dkim, timeouts: { commandMs: timeoutMs, endMs: dataTimeoutMs } });
}

function paceSettings(config: Config) {
  const { pauseMs, maxPauseMs, rampStepMs, caps } = config.sending.domains;
  return { pauseMs, maxPauseMs, rampStepMs, capOf: (group: string) => caps[group] ?? { perSecond: 0, connections: 0 } };
}

/** The MX hosts of a domain, lowest preference first, through the resolver `newsletter doctor` uses (DNS_SERVERS). */
function mxLookup(config: Config) {
  const dns = createDnsLookup(config.dns.servers, { timeoutMs: config.sending.domains.mxTimeoutMs });
  return async (domain: string) => {
    const answer = await dns.mx(domain);
    if (failed(answer)) throw new Error(answer.error);
    return [...answer.records].sort((a, b) => a.priority - b.priority).map((record) => record.exchange);
  };
}

export async function createApp(
  config: Config,
  { warn = (m) => process.stderr.write(`warning: ${m}\n`), checkRedisSafety: checkSafety = true }: CreateAppOptions = {},
): Promise<App> {
  const redis = await connectRedis(config.redis.topology, warn);
  const closers: Closer[] = [() => redis.quit()];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    if (checkSafety) for (const message of await checkEveryPrimary(redis)) warn(message);
  } catch (error) {
    await close();
    throw error;
  }
  const { prefix } = config.redis;
  const waits = new WeakMap<RedisClient, ReplicaWait>();
  let shortfallWarnedAt = 0;
  const replicaWait = (client: RedisClient) => {
    let wait = waits.get(client);
    if (!wait) {
      wait = new ReplicaWait({
        client,
        ...config.redis.wait,
        onShortfall: (node) => {
          // Once a minute at most: a replica that fell behind would otherwise warn on every tick.
          if (Date.now() - shortfallWarnedAt < 60_000) return;
          shortfallWarnedAt = Date.now();
          warn(
            `no replica of Redis ${node} confirmed writes within REDIS_WAIT_TIMEOUT_MS: they are retried until one does, or until the primary reports no replica`,
          );
        },
      });
      waits.set(client, wait);
    }
    return wait;
  };

  /** A client made on first use and closed with the app. */
  const lazy = <T>(open: () => T, closeIt: (opened: T) => Promise<unknown> | void): (() => T) => {
    let opened: T | undefined;
    return () => {
      if (opened === undefined) {
        const made = (opened = open());
        closers.push(() => closeIt(made));
      }
      return opened;
    };
  };

  const subscribers = new SubscriberStore({ redis, prefix, replicaWait: replicaWait(redis) });
  if (checkSafety && (await subscribers.hasLayout1())) {
    warn(
      'subscribers are still kept in the layout before 0.2 (about 880 bytes of Redis each, against about 200): run `newsletter migrate` (online; everything works meanwhile)',
    );
  }

  return {
    config,
    redis,
    subscribers,
    campaigns: new CampaignStore({ redis, prefix }),
    relay: new RelayBreaker({ redis, prefix, settings: config.sending.relay }),
    pace: new DomainPace({ redis, prefix, settings: paceSettings(config) }),
    receivingGroups: lazy(
      () => new ReceivingGroups({ mx: mxLookup(config), timeoutMs: config.sending.domains.mxTimeoutMs }),
      () => {},
    ),
    mailer: lazy(
      () => createTransport({ url: smtpUrlOf(config), ...tlsOptions(config) }),
      (transport) => transport.close(),
    ),
    deliveryQueue: lazy(
      () => {
        const queue = new Queue<BatchJobData>(DELIVERY_QUEUE, {
          connection: redis,
          prefix: deliveryQueuePrefix(prefix),
          defaultJobOptions: deliveryJobOptions(config.sending),
          streams: { events: { maxLen: DELIVERY_EVENTS_MAX_LEN } },
        });
        // Without a listener BullMQ prints every reconnect error; the app's Redis warns once per error already.
        queue.on('error', () => {});
        return queue;
      },
      (queue) => queue.close(),
    ),
    returnedMailQueue: lazy(
      () => {
        const queue = new Queue<ReturnedMail>(RETURNED_MAIL_QUEUE, {
          connection: redis,
          prefix: deliveryQueuePrefix(prefix),
          streams: { events: { maxLen: DELIVERY_EVENTS_MAX_LEN } },
        });
        queue.on('error', () => {});
        return queue;
      },
      (queue) => queue.close(),
    ),
    smtpPool: lazy(
      () => createSmtpPool(config),
      (pool) => pool.close(),
    ),
    fleetMetrics: lazy(
      () =>
        new FleetCounters({
          redis,
          prefix,
          flushMs: config.metrics.flushMs,
          onError: (error) => warn(`metrics flush failed (kept for the next one): ${error.message}`),
        }),
      (fleet) => fleet.close(),
    ),
    connection(kind) {
      const connection = openRedis(config.redis.topology, kind);
      closers.push(() => connection.quit());
      return connection;
    },
    replicaWait,
    onClose(closer) {
      closers.push(closer);
    },
    close,
  };
}
