/**
 * One fault scenario: a private Redis (AOF), an SMTP server that injects faults, real
 * `newsletter worker` processes, and an in-process App for what the CLI would do (enqueue,
 * pause, resend). audit() compares, recipient by recipient, what the SMTP server received
 * (by Message-ID) with the ledger and the counters.
 */
import { afterEach } from 'vitest';
import type { Campaign } from '../../src/campaign/campaign.ts';
import { decodeLedgerEntry } from '../../src/campaign/delivery-outcome.ts';
import { messageIdFor } from '../../src/delivery/message-template.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { startFaultSmtpServer, type FaultRates, type FaultSmtpServer } from './fault-smtp.ts';
import { startPrivateRedisServer, type PrivateRedisServer } from '../../src/redis/private-redis-server.ts';
import { ProcessRegistry } from '../helpers/processes.ts';

/** A Redis deployment of the scenario's own: its REDIS_URL, and how to end it. */
export interface ScenarioRedis {
  readonly url: string;
  stop(): Promise<void>;
}

export interface FaultScenario<R extends ScenarioRedis = PrivateRedisServer> {
  /**
   * Its own redis-server with an append-only file fsynced on every write, so it can be killed
   * and restarted with what it acknowledged; or the deployment the test started (Sentinel, Cluster).
   */
  redis: R;
  smtp: FaultSmtpServer;
  harness: Harness;
  processes: ProcessRegistry;
  subscribers: { id: string; email: string }[];
  /** The environment of every worker and server process of this scenario. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface ScenarioOptions<R extends ScenarioRedis = PrivateRedisServer> {
  recipients: number;
  /** Starts the deployment to run on (default: one private redis-server); the scenario stops it. */
  redis?: () => Promise<R>;
  faults?: Omit<FaultRates, 'seed'>;
  seed?: string;
  env?: Record<string, string>;
  /** The recipients' addresses (default r<i>@example.org). */
  emailOf?: (i: number) => string;
}

/**
 * Worker settings for faults: a dead worker's batches come back within 2-4 s; 12 attempts with
 * backoff from 100 ms outlast a 20 s SMTP outage (the jittered delays add up to >= 25 s).
 */
const FAULT_ENV = {
  WORKER_LOCK_MS: '2000',
  SEND_ATTEMPTS: '12',
  SEND_BACKOFF_MS: '100',
  SMTP_TIMEOUT_MS: '5000',
  WORKER_CONCURRENCY: '10',
  SMTP_MAX_CONNECTIONS: '5',
  // 'worker ready' and 'Server listening' are info lines.
  LOG_LEVEL: 'info',
};

export async function startFaultScenario<R extends ScenarioRedis = PrivateRedisServer>(options: ScenarioOptions<R>): Promise<FaultScenario<R>> {
  const redis = options.redis ? await options.redis() : ((await startPrivateRedisServer({ appendfsync: 'always' })) as unknown as R);
  const processes = new ProcessRegistry();
  let smtp: FaultSmtpServer | undefined;
  let harness: Harness | undefined;
  try {
    smtp = await startFaultSmtpServer({ seed: options.seed ?? 'faults-1', ...options.faults });
    harness = await startHarness({ redisUrl: redis.url, smtp, env: { ...FAULT_ENV, ...options.env } });
    const subscribers = await harness.addSubscribers(options.recipients, 'weekly', options.emailOf);
    // While Redis restarts, BullMQ would print each reconnect error of this (enqueueing) queue.
    harness.app.deliveryQueue().on('error', () => {});
    const h = harness;
    return {
      redis,
      smtp,
      harness,
      processes,
      subscribers,
      env: h.env,
      async close() {
        await processes.killAll();
        await smtp!.crash();
        await h.close();
        await redis.stop();
      },
    };
  } catch (error) {
    await processes.killAll();
    await smtp?.crash();
    await harness?.close();
    await redis.stop();
    throw error;
  }
}

/** The calling file's scenario starter: one scenario per test, closed after the test whatever happened. */
export function scenarioPerTest<R extends ScenarioRedis = PrivateRedisServer>(): (options: ScenarioOptions<R>) => Promise<FaultScenario<R>> {
  let scenario: FaultScenario<R> | undefined;
  afterEach(async () => {
    await scenario?.close();
    scenario = undefined;
  });
  return async (options) => (scenario = await startFaultScenario(options));
}

/**
 * What one recipient should end as: its ledger entry, written `outcome` or `outcome: detail`
 * (`accepted`, `failed: 550 5.1.1 ...`), and how many messages the server may have received.
 */
export interface Expectation {
  ledger: RegExp;
  received: readonly number[];
}

export const ACCEPTED: Expectation = { ledger: /^accepted$/, received: [1] };

export interface Audit {
  campaign: Campaign;
  /** Ledger entries by outcome (accepted, failed, skipped, deferred) and missing ones ('none'). */
  ledgerCounts: Record<string, number>;
  /** Addresses that received the campaign more than once: the same Message-ID accepted twice. */
  duplicates: { email: string; messageIds: string[] }[];
  /** Recipients whose ledger entry or receive count is not what was expected (the first 20; all are counted). */
  unexpected: { email: string; ledger: string | null; received: number; expected: string }[];
  unexpectedCount: number;
  /** Messages of this campaign whose Message-ID is not the recipient's own. */
  foreign: { to: string; messageId: string }[];
}

/** Reads the ledger and the server's records after the campaign ended; every list in the result is empty when all is well. */
export async function audit(
  s: FaultScenario<ScenarioRedis>,
  campaignId: string,
  expect: (subscriber: { id: string; email: string }) => Expectation = () => ACCEPTED,
): Promise<Audit> {
  const { app } = s.harness;
  const campaign = await app.campaigns.require(campaignId);
  const ledger = await app.redis.hgetall(app.campaigns.keys(campaignId).ledger);
  const byAddress = new Map<string, string[]>();
  const foreign: Audit['foreign'] = [];
  const expectedIds = new Map(s.subscribers.map((sub) => [sub.email, messageIdFor(campaignId, sub.id, app.config.identity.fromAddress)]));
  for (const message of s.smtp.messages) {
    if (!message.messageId.startsWith(`${campaignId}.`)) continue;
    const to = message.to[0]!;
    if (expectedIds.get(to) !== message.messageId) foreign.push({ to, messageId: message.messageId });
    byAddress.set(to, [...(byAddress.get(to) ?? []), message.messageId]);
  }
  const ledgerCounts: Record<string, number> = {};
  const unexpected: Audit['unexpected'] = [];
  for (const sub of s.subscribers) {
    const decoded = ledger[sub.id] === undefined ? undefined : decodeLedgerEntry(ledger[sub.id]!);
    const entry = decoded ? `${decoded.outcome}${decoded.detail ? `: ${decoded.detail}` : ''}` : (ledger[sub.id] ?? null);
    const kind = decoded?.outcome ?? (entry === null ? 'none' : 'unreadable');
    ledgerCounts[kind] = (ledgerCounts[kind] ?? 0) + 1;
    const received = byAddress.get(sub.email)?.length ?? 0;
    const want = expect(sub);
    if (entry === null || !want.ledger.test(entry) || !want.received.includes(received)) {
      unexpected.push({ email: sub.email, ledger: entry, received, expected: `${want.ledger} received ${want.received.join('|')}` });
    }
  }
  const duplicates = [...byAddress].filter(([, ids]) => ids.length > 1).map(([email, messageIds]) => ({ email, messageIds }));
  return { campaign, ledgerCounts, duplicates, unexpected: unexpected.slice(0, 20), unexpectedCount: unexpected.length, foreign };
}

/** Recipients recorded as "outcome unknown", and whether the server did receive their message. */
export async function unconfirmedRecipients(s: FaultScenario<ScenarioRedis>, campaignId: string): Promise<{ email: string; received: boolean }[]> {
  const failures = await s.harness.app.campaigns.allFailures(campaignId);
  const emails = new Map(s.subscribers.map((sub) => [sub.id, sub.email]));
  const received = new Set(s.smtp.messages.filter((m) => m.messageId.startsWith(`${campaignId}.`)).map((m) => m.to[0]));
  return failures
    .filter((f) => f.reply.startsWith('outcome unknown'))
    .map((f) => ({ email: emails.get(f.subscriberId)!, received: received.has(emails.get(f.subscriberId)!) }));
}
