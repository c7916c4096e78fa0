/**
 * A campaign: one send of an issue to a list, and the words for its life. PURE.
 */
import type { ReturnedCounts } from './returned-mail.ts';

/**
 * draft: created, not started, no time (unscheduled); scheduled: starts at `scheduledAt` (the
 * scheduler moves it to enqueuing); enqueuing -> running -> completed, or paused / cancelled.
 */
export const CAMPAIGN_STATES = ['draft', 'scheduled', 'enqueuing', 'running', 'paused', 'cancelled', 'completed'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export interface Campaign {
  id: string;
  slug: string;
  subject: string;
  list: string;
  state: CampaignState;
  /** ISO 8601 times. */
  createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  /** When a scheduled campaign starts (or started), ISO 8601 in UTC; undefined for one sent at once or a draft. */
  scheduledAt: string | undefined;
  /** Why it ended without sending, e.g. its list had no members left when its time came. */
  endReason: string | undefined;
  /** Recipients enqueued so far; final once the state leaves `enqueuing`. */
  total: number;
  accepted: number;
  failed: number;
  skipped: number;
  /** Deferred and waiting for another attempt (not settled, not in the sum). */
  deferred: number;
  /** Batch jobs of the first send, and of each `resend --failed` round. */
  batches: number;
  resendRounds: number;
  /** What came back by mail after the server accepted (returned-mail.ts): each recipient once per kind. */
  returned: ReturnedCounts;
}

/** What the workers need from the rendered issue, stored once per campaign. */
export interface IssueSnapshot {
  slug: string;
  subject: string;
  preheader: string;
  date: string | undefined;
  html: string;
  text: string;
  /** The issue's web version, the same for every recipient. */
  viewUrl: string;
}

/** Every recipient ends in exactly one of these; the sum is the total. */
export function settledCount(c: Pick<Campaign, 'accepted' | 'failed' | 'skipped'>): number {
  return c.accepted + c.failed + c.skipped;
}

/** Not started yet: it can still be scheduled, unscheduled, started or re-sent with a new rendering. */
export function isUnstarted(c: Pick<Campaign, 'state'>): boolean {
  return c.state === 'draft' || c.state === 'scheduled';
}

export function isFinished(c: Pick<Campaign, 'state'>): boolean {
  return c.state === 'completed' || c.state === 'cancelled';
}

/** BullMQ job data: ids only, never the message. */
export interface BatchJobData {
  campaignId: string;
  /** Subscriber ids. */
  ids: string[];
}
