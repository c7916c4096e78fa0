/** A real Redis prefix, a real in-process SMTP server and a real App, for delivery tests. */
import { vi } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { buildDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from '../../src/processes/delivery-worker.ts';
import type { Campaign } from '../../src/campaign/campaign.ts';
import { enqueueCampaign } from '../../src/campaign/enqueue-campaign.ts';
import { loadConfig } from '../../src/config.ts';
import type { Issue } from '../../src/render/issue.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from './redis.ts';
import { startTestSmtpServer, type SmtpScript, type TestSmtpServer } from './smtp-server.ts';

export interface Harness {
  prefix: string;
  smtp: TestSmtpServer;
  app: App;
  env: Record<string, string>;
  /** Another App on the same Redis and SMTP server, as a second worker process would have. */
  newApp(extraEnv?: Record<string, string>): Promise<App>;
  /** A delivery worker in this process on the harness's App, as `newsletter worker` builds it; closed with the App. */
  startWorker(options?: DeliveryWorkerOptions): DeliveryWorker;
  /** `count` subscribers, r<i>@example.org unless `emailOf` names each. */
  addSubscribers(count: number, list?: string, emailOf?: (i: number) => string): Promise<{ id: string; email: string }[]>;
  send(list?: string, issue?: Issue): Promise<Campaign>;
  /** Resolves with the campaign once it satisfies `predicate`; fails with the last one read after `timeoutMs`. */
  waitFor(predicate: (c: Campaign) => boolean, timeoutMs?: number): Promise<Campaign>;
  /** The delivery queue's batches by state, the ones that are still to run or running. */
  batches(): Promise<BatchCounts>;
  campaignId: string;
  close(): Promise<void>;
}

export interface BatchCounts {
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
}

/** No batch waits, runs or is parked: every worker is idle and nothing more will be sent. */
export const IDLE: BatchCounts = { waiting: 0, active: 0, delayed: 0, prioritized: 0 };

export interface HarnessOptions {
  script?: SmtpScript;
  env?: Record<string, string>;
  onRcpt?: (a: string) => { code: number; message: string } | undefined;
  /** A Redis of the test's own (fault tests); its owner discards it, so close() leaves its keys. Default: the shared test Redis. */
  redisUrl?: string;
  /** An SMTP server the caller started (e.g. one that injects faults); close() stops it. */
  smtp?: TestSmtpServer;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const prefix = uniquePrefix('dlv');
  const smtp = options.smtp ?? (await startTestSmtpServer({ script: options.script, onRcpt: options.onRcpt }));
  const env: Record<string, string> = {
    REDIS_URL: options.redisUrl ?? TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    SMTP_URL: smtp.url,
    NEWSLETTER_DEV_MODE: '1',
    SEND_ATTEMPTS: '4',
    SEND_BACKOFF_MS: '40',
    WORKER_CONCURRENCY: '6',
    SMTP_MAX_CONNECTIONS: '3',
    PUBLIC_URL: 'https://news.example.org',
    ...options.env,
  };
  const apps: App[] = [];
  const newApp = async (extraEnv: Record<string, string> = {}) => {
    const app = await createApp(loadConfig({ env: { ...env, ...extraEnv } }), { warn: () => {} });
    apps.push(app);
    return app;
  };
  const app = await newApp();
  const campaignId = `${deliveryIssue.slug}--weekly`;
  return {
    prefix,
    smtp,
    app,
    env,
    newApp,
    // Batches that met a Redis or relay failure come back within a fifth of a second, not 5 s.
    startWorker: (workerOptions) => buildDeliveryWorker(app, { retryWaitMs: 200, ...workerOptions }),
    campaignId,
    async addSubscribers(count, list = 'weekly', emailOf = (i) => `r${i}@example.org`) {
      const inputs = Array.from({ length: count }, (_, i) => ({ email: emailOf(i), lists: [list] }));
      return (await app.subscribers.addMany(inputs)).map((r) => ({ id: r.subscriber.id, email: r.subscriber.email }));
    },
    send(list = 'weekly', issue = deliveryIssue) {
      return enqueueCampaign(
        { campaigns: app.campaigns, queue: app.deliveryQueue(), directory: app.subscribers, now: () => new Date() },
        { issue, list, publicUrl: app.config.http.publicUrl },
      );
    },
    waitFor(predicate, timeoutMs = 15_000) {
      return vi.waitFor(
        async () => {
          const campaign = await app.campaigns.require(campaignId);
          if (!predicate(campaign)) throw new Error(`campaign not in the expected state: ${JSON.stringify(campaign)}`);
          return campaign;
        },
        { timeout: timeoutMs, interval: 50 },
      );
    },
    async batches() {
      const { waiting = 0, active = 0, delayed = 0, prioritized = 0 } = await app.deliveryQueue().getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return { waiting, active, delayed, prioritized };
    },
    async close() {
      for (const a of apps.reverse()) await a.close();
      await smtp.close();
      if (!options.redisUrl) await (await connectTestRedis(prefix)).cleanup();
    },
  };
}

/** Messages received per recipient address. */
export function countByRecipient(smtp: TestSmtpServer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of smtp.messages) for (const to of message.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  return counts;
}
