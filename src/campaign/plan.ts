/**
 * Rendered issue + list -> the campaign to create and the names of its batch jobs. PURE.
 */
import { NewsletterError } from '../errors.ts';
import type { Issue } from '../render/issue.ts';
import { LIST_NAME_SEPARATOR, parseListName } from '../subscribers/subscriber.ts';
import type { Campaign, IssueSnapshot } from './campaign.ts';
import { issueUrl } from './issue-url.ts';
import { emptyReturnedCounts } from './returned-mail.ts';

/** Recipients per BullMQ job: ~23 bytes of Redis per pending recipient at 100, ~700 at 1. */
export const BATCH_SIZE = 100;

const ID_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The same post to the same list is the same campaign: running `send` again resumes
 * enqueueing or refuses, it never sends the issue a second time. Different ones never share
 * an id: the slug may contain "--", a list name may not, so the last "--" splits them.
 */
export function campaignIdFor(slug: string, list: string): string {
  if (!ID_PART.test(slug) || slug.length > 100) {
    throw new NewsletterError('INPUT_INVALID', `slug "${slug.slice(0, 80)}" must be letters, digits, ".", "_" or "-"`, { field: 'slug' });
  }
  return `${slug}${LIST_NAME_SEPARATOR}${parseListName(list)}`;
}

/** Deterministic job ids: adding the same batch twice is a no-op in BullMQ. Round 0 is the first send, n the n-th resend. */
export function batchJobId(campaignId: string, round: number, index: number): string {
  return round === 0 ? `${campaignId}-b${index}` : `${campaignId}-r${round}-b${index}`;
}

export interface PlanInput {
  issue: Pick<Issue, 'slug' | 'subject' | 'preheader' | 'date' | 'html' | 'text'>;
  list: string;
  now: Date;
  publicUrl: string;
}

export function planCampaign({ issue, list, now, publicUrl }: PlanInput): { campaign: Campaign; snapshot: IssueSnapshot } {
  const id = campaignIdFor(issue.slug, list);
  const campaign: Campaign = {
    id,
    slug: issue.slug,
    subject: issue.subject,
    list,
    state: 'enqueuing',
    createdAt: now.toISOString(),
    startedAt: undefined,
    finishedAt: undefined,
    scheduledAt: undefined,
    endReason: undefined,
    total: 0,
    accepted: 0,
    failed: 0,
    skipped: 0,
    deferred: 0,
    batches: 0,
    resendRounds: 0,
    returned: emptyReturnedCounts(),
  };
  const snapshot: IssueSnapshot = {
    slug: issue.slug,
    subject: issue.subject,
    preheader: issue.preheader,
    date: issue.date,
    html: issue.html,
    text: issue.text,
    viewUrl: issueUrl(publicUrl, issue.slug),
  };
  return { campaign, snapshot };
}

/** Splits ids into batch-sized chunks. */
export function chunk<T>(items: readonly T[], size = BATCH_SIZE): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
