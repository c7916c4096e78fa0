/** A campaign really sent to a few subscribers with BOUNCE_DOMAIN set, and the returned-mail processor on the same App. */
import { afterEach, vi } from 'vitest';
import type { Job } from 'bullmq';
import type { Campaign } from '../../src/campaign/campaign.ts';
import { createReturnedMailProcessor, type ReturnedMailOutcome } from '../../src/inbound/process-returned-mail.ts';
import type { ReturnedMail } from '../../src/inbound/returned-mail-queue.ts';
import { counterField, RETURNED_MAIL, UNMATCHED_MAIL, UNSUBSCRIBES } from '../../src/metrics/definitions.ts';
import { returnedMailDeps } from '../../src/operations/returned-mail-operations.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';
import type { ReceivedMessage } from '../helpers/smtp-server.ts';

export const DOMAIN = 'bounces.news.example.org';

let harness: Harness | undefined;
/** Registered by every test file that imports this one. */
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

export interface Setup {
  harness: Harness;
  process: (job: Job<ReturnedMail>) => Promise<ReturnedMailOutcome>;
  /** Sends an issue to the list and waits until the campaign is completed; its messages by recipient address. */
  send(slug: string): Promise<{ campaign: Campaign; to: (email: string) => ReceivedMessage }>;
  /** Every key under the prefix, the fleet's metrics flushed first. */
  snapshot(): Promise<Record<string, unknown>>;
  metric(field: string): Promise<number>;
  subscribers: { id: string; email: string }[];
}

export async function setUp(subscriberCount = 3, env: Record<string, string> = {}): Promise<Setup> {
  const h = (harness = await startHarness({ env: { BOUNCE_DOMAIN: DOMAIN, ...env } }));
  const subscribers = await h.addSubscribers(subscriberCount);
  const worker = h.startWorker();
  const process = createReturnedMailProcessor(returnedMailDeps(h.app));
  return {
    harness: h,
    process,
    subscribers,
    async send(slug) {
      const { id } = await h.send('weekly', { ...deliveryIssue, slug });
      const campaign = await vi.waitFor(
        async () => {
          const c = await h.app.campaigns.require(id);
          if (c.state !== 'completed') throw new Error(`campaign ${id} is ${c.state}`);
          return c;
        },
        { timeout: 15_000, interval: 50 },
      );
      const messages = h.smtp.messages.filter((m) => m.messageId.startsWith(`${id}.`));
      return {
        campaign,
        to: (email) => {
          const found = messages.find((m) => m.to.includes(email));
          if (!found) throw new Error(`campaign ${id} sent nothing to ${email}`);
          return found;
        },
      };
    },
    async snapshot() {
      // The delivery worker's own bookkeeping (heartbeats, its queue's events) is not what this looks at.
      await worker.stop();
      await h.app.fleetMetrics().flush();
      return dumpKeys(h.app.redis, h.prefix);
    },
    async metric(field) {
      return Number((await h.app.fleetMetrics().read())[field] ?? 0);
    },
  };
}

export const returned = (kind: string) => counterField(RETURNED_MAIL, { kind });
export const unsubscribes = (how: string) => counterField(UNSUBSCRIBES, { how });
export const unmatched = (reason: string) => counterField(UNMATCHED_MAIL, { reason });
