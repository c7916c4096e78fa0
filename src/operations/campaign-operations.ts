/**
 * What an operator can do with campaigns, once, for every edge: the CLI (`send`,
 * `campaign ...`) and the admin API call these and only format the results. Plain
 * parameters in, plain JSON-able results out, NewsletterError for anything refused.
 */
import type { Queue } from 'bullmq';
import type { App } from '../app.ts';
import { isUnstarted, type BatchJobData, type Campaign } from '../campaign/campaign.ts';
import { cancelCampaign, pauseCampaign, resumeCampaign, type ControlDeps } from '../campaign/campaign-controls.ts';
import type { CampaignStore } from '../campaign/campaign-store.ts';
import { complaintRate, LATE_BOUNCE_KINDS, returnedMailWarnings, type ReturnedKind } from '../campaign/returned-mail.ts';
import { enqueueCampaign, resendFailed, type ResendResult } from '../campaign/enqueue-campaign.ts';
import { campaignIdFor, planCampaign } from '../campaign/plan.ts';
import { ScheduleStore } from '../campaign/schedule-store.ts';
import { startNow, type StartScheduledDeps } from '../campaign/start-scheduled.ts';
import { isRedisError } from '../redis/redis-errors.ts';
import type { Identity } from '../config.ts';
import { sendTestMessage } from '../delivery/send-test-message.ts';
import type { GroupPace } from '../delivery/domain-pace.ts';
import type { RelayState } from '../delivery/relay-breaker.ts';
import type { MessageTransport } from '../delivery/transport.ts';
import { NewsletterError, isNewsletterError } from '../errors.ts';
import type { Issue } from '../render/issue.ts';
import { normalizeEmail } from '../subscribers/email-address.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';
import { canReceive, parseListName } from '../subscribers/subscriber.ts';
import type { SubscriberStore } from '../subscribers/subscriber-store.ts';
import type { SigningSecrets } from '../subscribers/tokens.ts';

export interface CampaignDeps {
  campaigns: CampaignStore;
  /** Scheduled starts (src/campaign/schedule-store.ts). */
  schedule: ScheduleStore;
  subscribers: SubscriberStore;
  /** Opened on first use, so reading campaigns never creates the queue. */
  queue: () => Queue<BatchJobData>;
  /** Only test sends use it; throws SMTP_NOT_CONFIGURED without SMTP_URL. */
  transport: () => MessageTransport;
  /** Only test sends sign a link; throws CONFIG_INVALID without a secret outside dev mode. */
  secrets: () => SigningSecrets;
  identity: Identity;
  publicUrl: string;
  now: () => Date;
  /** The fleet's relay breaker as it is now. */
  relay: () => Promise<RelayState>;
  /** The receiving groups paused or resuming slowly, for the fleet. */
  pace: () => Promise<GroupPace[]>;
  /** BOUNCE_DOMAIN: test sends get a return path too; unset, bounces are not read. */
  bounceDomain: string | undefined;
}

export function campaignDeps(app: App): CampaignDeps {
  return {
    campaigns: app.campaigns,
    schedule: new ScheduleStore({ redis: app.redis, prefix: app.config.redis.prefix }),
    subscribers: app.subscribers,
    queue: () => app.deliveryQueue(),
    transport: () => app.smtpPool(),
    secrets: () => signingSecrets(app.config),
    identity: app.config.identity,
    publicUrl: app.config.http.publicUrl,
    now: () => new Date(),
    relay: () => app.relay.read(),
    pace: () => app.pace.read(),
    bounceDomain: app.config.bounces.domain,
  };
}

/** What starting a draft or scheduled campaign needs (the scheduler's own dependencies). */
export const startDeps = (deps: CampaignDeps): StartScheduledDeps => ({
  campaigns: deps.campaigns,
  schedule: deps.schedule,
  queue: deps.queue,
  directory: deps.subscribers,
  publicUrl: deps.publicUrl,
  now: deps.now,
});

const controls = (deps: CampaignDeps): ControlDeps => ({ campaigns: deps.campaigns, queue: deps.queue(), now: deps.now });

export interface SendTarget {
  list?: string;
  testTo?: string;
}

/**
 * Where a send goes: a list, or one test address. Checked before anything is rendered or
 * opened; `fields` names them as the caller's user wrote them (`--list` or `list`).
 */
export function parseSendTarget(target: SendTarget, fields: { list: string; testTo: string } = { list: 'list', testTo: 'testTo' }): SendTarget {
  const list = target.list === undefined ? undefined : parseListName(target.list, { field: fields.list });
  const testTo = target.testTo === undefined ? undefined : normalizeEmail(target.testTo, { field: fields.testTo });
  if (!list && !testTo) throw new NewsletterError('INPUT_INVALID', `name the list to send to (or ${fields.testTo} ADDRESS)`, { field: fields.list });
  return { list, testTo };
}

export type SendResult =
  | { kind: 'dry-run'; slug: string; subject: string; list: string | null; recipients: number }
  | { kind: 'test'; to: string; reply: string }
  | { kind: 'campaign'; campaign: Campaign; /** Delivery workers connected to the queue right now (0: nothing will be sent yet). */ workers: number };

/** Active subscribers of a list: who a campaign would go to now. */
async function countRecipients(subscribers: SubscriberStore, list: string): Promise<number> {
  let recipients = 0;
  for await (const batch of subscribers.iterateSubscribers(list, 1000)) recipients += batch.filter(canReceive).length;
  return recipients;
}

/**
 * One test message, marked [TEST], outside any campaign: no counters, no ledger. The
 * unsubscribe link is the address's own when it is subscribed. `field` names the address as
 * the caller's user knows it (`testTo`, or the preview's `address`).
 */
export async function sendTest(
  deps: Pick<CampaignDeps, 'subscribers' | 'transport' | 'secrets' | 'identity' | 'publicUrl' | 'now' | 'bounceDomain'>,
  issue: Issue,
  to: string,
  field = 'testTo',
): Promise<{ to: string; reply: string }> {
  const address = normalizeEmail(to, { field });
  const transport = deps.transport();
  const secrets = deps.secrets();
  const now = deps.now();
  const { snapshot } = planCampaign({ issue, list: 'test', now, publicUrl: deps.publicUrl });
  const subscriber = await deps.subscribers.getByEmail(address);
  try {
    const reply = await sendTestMessage(
      { transport, identity: deps.identity, secrets, publicUrl: deps.publicUrl, bounceDomain: deps.bounceDomain },
      { issue: snapshot, to: address, subscriberId: subscriber?.id, now },
    );
    return { to: address, reply };
  } catch (cause) {
    if (isNewsletterError(cause)) throw cause;
    const reply = (cause as { response?: string; message?: string }).response ?? (cause as Error).message;
    throw new NewsletterError('TEST_SEND_FAILED', `the SMTP server did not accept the test message: ${String(reply).replace(/\s+/g, ' ').slice(0, 300)}`, {
      field,
      cause,
    });
  }
}

/**
 * A rendered issue to a list (a campaign: created, enqueued, then sent by the workers), to
 * one test address, or nowhere (a dry run that counts the recipients).
 */
export async function sendIssue(deps: CampaignDeps, issue: Issue, request: SendTarget & { dryRun?: boolean }): Promise<SendResult> {
  const { list, testTo } = parseSendTarget(request);
  if (request.dryRun) {
    const recipients = list ? await countRecipients(deps.subscribers, list) : 0;
    return { kind: 'dry-run', slug: issue.slug, subject: issue.subject, list: list ?? null, recipients };
  }
  if (testTo) return { kind: 'test', ...(await sendTest(deps, issue, testTo)) };
  const queue = deps.queue();
  try {
    // A draft or scheduled campaign of this post and list starts now with this rendering: one campaign, never two.
    const existing = await deps.campaigns.get(campaignIdFor(issue.slug, list!));
    if (existing && isUnstarted(existing)) {
      const { snapshot } = planCampaign({ issue, list: list!, now: deps.now(), publicUrl: deps.publicUrl });
      return { kind: 'campaign', campaign: await startNow(startDeps(deps), existing.id, snapshot), workers: await queue.getWorkersCount() };
    }
    const campaign = await enqueueCampaign(
      { campaigns: deps.campaigns, queue, directory: deps.subscribers, now: deps.now },
      { issue, list: list!, publicUrl: deps.publicUrl },
    );
    return { kind: 'campaign', campaign, workers: await queue.getWorkersCount() };
  } catch (error) {
    if (!isRedisError(error)) throw error;
    // The campaign id is the same on the next run, which continues where this one stopped.
    const id = campaignIdFor(issue.slug, list!);
    throw new NewsletterError(
      'REDIS_UNAVAILABLE',
      `Redis did not take campaign ${id} (${(error as Error).message.split('\n')[0]}); nothing is lost: once Redis answers, run the same send again and it continues where it stopped`,
      { field: 'REDIS_URL', cause: error },
    );
  }
}

/** Newest first. */
export function listCampaigns(deps: Pick<CampaignDeps, 'campaigns'>, limit = 100): Promise<Campaign[]> {
  return deps.campaigns.list(limit);
}

/** A receiving group being paced, and how many of this campaign's recipients wait for it. */
export type DomainStatus = GroupPace & { waiting: number };

export type CampaignStatus = Campaign & {
  relay: RelayState;
  /** Receiving groups (or domains) paused or resuming slowly after a throttling reply, with this campaign's recipients waiting on each. */
  domains: DomainStatus[];
  /** Complaints per accepted message (returned.complained / accepted). */
  complaintRate: number;
  /** What the operator should look at now (a complaint rate past 0.1 %). */
  warnings: string[];
};

/** A campaign, what came back by mail and, since every campaign waits for it, whether the relay breaker pauses sending. */
export async function campaignStatus(deps: Pick<CampaignDeps, 'campaigns' | 'relay' | 'pace'>, id: string): Promise<CampaignStatus> {
  const [campaign, relay, pace, waits] = await Promise.all([deps.campaigns.require(id), deps.relay(), deps.pace(), deps.campaigns.groupWaits(id)]);
  // Waits are what a batch's last run left; a finished campaign waits for nothing.
  const waiting = (group: string) => (campaign.state === 'running' ? (waits[group] ?? 0) : 0);
  const domains = pace.map((p) => ({ ...p, waiting: waiting(p.group) }));
  return { ...campaign, relay, domains, complaintRate: complaintRate(campaign), warnings: returnedMailWarnings(campaign) };
}

export interface FailureRow {
  subscriberId: string;
  /** Null when the subscriber has been removed since. */
  email: string | null;
  /** The SMTP reply; for a bounce that came back by mail, what its report said. */
  reply: string;
  /** ISO 8601, when the failure was recorded (not for bounces that came back by mail, nor failures recorded before times were kept). */
  at?: string;
  /** Only for a bounce that came back by mail after the server accepted the message: its kind and RFC 3463 status. */
  returned?: { kind: ReturnedKind; status: string | null };
}

/**
 * The failed deliveries with the address and the server's reply, then the bounces that came
 * back by mail (hard, soft, blocked, delayed) with their status and what the report said: at
 * most `limit` (0 for all), and how many there are.
 */
export async function campaignFailures(
  deps: Pick<CampaignDeps, 'campaigns' | 'subscribers'>,
  id: string,
  limit = 0,
): Promise<{ failures: FailureRow[]; total: number }> {
  await deps.campaigns.require(id);
  const [failed, returned] = await Promise.all([deps.campaigns.allFailures(id), deps.campaigns.allReturned(id)]);
  const rows: FailureRow[] = [
    ...failed.map((f) => ({ subscriberId: f.subscriberId, email: null, reply: f.reply, ...(f.at ? { at: f.at } : {}) })),
    ...returned
      .filter((r) => LATE_BOUNCE_KINDS.has(r.kind))
      .map((r) => ({ subscriberId: r.subscriberId, email: null, reply: r.detail, returned: { kind: r.kind, status: r.status } })),
  ];
  const shown = limit > 0 ? rows.slice(0, limit) : rows;
  const emails = new Map((await deps.subscribers.getMany(shown.map((f) => f.subscriberId))).map((s) => [s.id, s.email]));
  return { failures: shown.map((row) => ({ ...row, email: emails.get(row.subscriberId) ?? null })), total: rows.length };
}

/** No new message starts; in-flight ones finish. */
export function pause(deps: CampaignDeps, id: string): Promise<Campaign> {
  return pauseCampaign(controls(deps), id);
}

/** Continues from the ledger (no one twice); also retries batches that failed outright. */
export function resume(deps: CampaignDeps, id: string): Promise<Campaign> {
  return resumeCampaign(controls(deps), id);
}

/** For good: the recipients not yet sent to are skipped. */
export function cancel(deps: CampaignDeps, id: string): Promise<Campaign> {
  return cancelCampaign(controls(deps), id);
}

/**
 * A completed campaign, again, only to the recipients whose delivery failed (a new round);
 * those whose outcome is unknown only with includeUnknown.
 */
export function resendToFailed(deps: CampaignDeps, id: string, options: { includeUnknown?: boolean } = {}): Promise<ResendResult> {
  return resendFailed({ campaigns: deps.campaigns, queue: deps.queue(), now: deps.now }, id, options);
}
