/**
 * What a returned message does: classify it (classify-inbound-message.ts), find whom it is
 * about (match-returned-mail.ts: a mailto unsubscribe's token; the return path first, signature
 * checked; then our Message-ID; then a failed recipient's address; never guessed), and apply it
 * to the subscriber and the campaign (returned-effect.ts, apply-returned-mail.ts). A message
 * that matches nobody changes nothing: it is kept for the operator (returned-mail-store.ts) and
 * counted. Applying the same message twice changes nothing, and counts nothing, again.
 */
import type { Job } from 'bullmq';
import type { CampaignStore } from '../campaign/campaign-store.ts';
import type { Logger } from '../logger.ts';
import type { ReturnedMailKind, UnmatchedReason } from '../metrics/definitions.ts';
import type { ReturnedMailMetrics } from '../metrics/metric-tally.ts';
import type { SubscriberStore } from '../subscribers/subscriber-store.ts';
import type { SigningSecrets } from '../subscribers/tokens.ts';
import { applyReturnedMail } from './apply-returned-mail.ts';
import { classifyInboundMessage, type InboundKind, type InboundVerdict } from './classify-inbound-message.ts';
import type { InboundMessage } from './inbound-message.ts';
import { matchReturnedMail, type MatchedBy } from './match-returned-mail.ts';
import { parseInboundMessage } from './parse-inbound-message.ts';
import { RecentCampaigns } from './recent-campaigns.ts';
import { returnedEffect } from './returned-effect.ts';
import { returnedMailId, type ReturnedMailStore, type UnmatchedMail } from './returned-mail-store.ts';
import type { ReturnedMail } from './returned-mail-queue.ts';

export interface ReturnedMailDeps {
  campaigns: CampaignStore;
  subscribers: SubscriberStore;
  secrets: SigningSecrets;
  /** BOUNCE_DOMAIN: return paths are read only on it. */
  bounceDomain: string | undefined;
  /** A subscriber becomes bounced after `limit` soft bounces in their last `window` campaigns. */
  soft: { limit: number; window: number };
  now: () => Date;
  log?: Logger;
  /**
   * Keeps unmatched mail for the operator, and which messages were counted. Without it,
   * unmatched mail is only logged, and a message processed twice is counted twice in metrics
   * (its effects still happen once).
   */
  returnedMail?: ReturnedMailStore;
  /** newsletter_returned_mail_total, _unmatched_total, and unsubscribes by mail, bounce and complaint. */
  metrics?: ReturnedMailMetrics;
}

/** What one returned message came to: its kind, and whom it was matched to (none: unmatched). */
export interface ReturnedMailOutcome {
  kind: InboundKind;
  matched: { subscriberId: string; campaignId: string | undefined; by: MatchedBy } | undefined;
  /** Why it matched nobody (when matched is undefined). */
  unmatched?: UnmatchedReason;
  /** What it changed, one line each; empty when it had been applied already, or acts on nothing. */
  changes?: string[];
}

export function createReturnedMailProcessor(deps: ReturnedMailDeps): (job: Job<ReturnedMail>) => Promise<ReturnedMailOutcome> {
  // Per process: the newest campaigns' return-path refs, read again when a campaign is created.
  const recent = new RecentCampaigns(deps.campaigns);
  return async (job) => {
    const mail = job.data;
    const raw = Buffer.from(mail.raw, 'base64');
    const receivedAt = new Date(Date.parse(mail.receivedAt) || deps.now().getTime());
    const read = await readMessage(raw);
    if ('problem' in read) return keepUnmatched(deps, mail, raw, undefined, { reason: 'unclassified', detail: `cannot be read: ${read.problem}` });
    const { message, verdict } = read;
    const result = await matchReturnedMail({ ...deps, recent }, { message, verdict, rcptTo: mail.rcptTo, via: mail.via });
    if ('unmatched' in result) return keepUnmatched(deps, mail, raw, read, { reason: result.unmatched, detail: result.detail });
    const { kind } = verdict;

    const changes: string[] = [];
    const counted: ReturnedMailKind[] = [];
    for (const match of result.matches) {
      const effect = returnedEffect({ kind, recipient: match.recipient, source: match.source, feedbackType: verdict.feedbackType });
      if (!effect) continue;
      changes.push(...(await applyReturnedMail({ ...deps, recent }, match, effect, receivedAt)));
      counted.push(effect.metric);
    }
    // Counted only once the effects are written: a crash before this counts on the next run.
    const first = deps.returnedMail ? await deps.returnedMail.markCounted(returnedMailId(raw), deps.now()) : true;
    if (first) for (const metric of counted) deps.metrics?.returnedMail(metric);
    const [{ subscriberId, campaignId, by }] = result.matches;
    deps.log?.info(
      { kind, by, subscriberId, campaignId, changes },
      changes.length ? 'returned mail applied' : 'returned mail changed nothing (applied before)',
    );
    return { kind, matched: { subscriberId, campaignId, by }, changes };
  };
}

type Read = { message: InboundMessage; verdict: InboundVerdict } | { problem: string };

/** A message that matched nobody changes nothing: it is kept for the operator and counted, once. */
async function keepUnmatched(
  deps: ReturnedMailDeps,
  mail: ReturnedMail,
  raw: Buffer,
  read: { message: InboundMessage; verdict: InboundVerdict } | undefined,
  { reason, detail }: { reason: UnmatchedReason; detail: string },
): Promise<ReturnedMailOutcome> {
  const summary = unmatchedSummary(mail, raw, read, reason, detail);
  const first = deps.returnedMail ? await deps.returnedMail.keepUnmatched(summary, raw, deps.now()) : true;
  if (first) deps.metrics?.unmatchedMail(reason);
  deps.log?.info({ kind: summary.kind, reason, returnedMailId: summary.id, first }, `returned mail matched no recipient: ${detail}`);
  return { kind: summary.kind, matched: undefined, unmatched: reason, changes: [] };
}

/** The parser and classifier do not throw on bad input; should one ever, the message is kept as unreadable rather than retried for days. */
async function readMessage(raw: Buffer): Promise<Read> {
  try {
    const message = await parseInboundMessage(raw);
    return { message, verdict: classifyInboundMessage(message) };
  } catch (error) {
    return { problem: (error as Error).message.split('\n')[0]!.slice(0, 200) };
  }
}

function unmatchedSummary(
  mail: ReturnedMail,
  raw: Buffer,
  read: { message: InboundMessage; verdict: InboundVerdict } | undefined,
  reason: UnmatchedReason,
  detail: string,
): UnmatchedMail {
  return {
    id: returnedMailId(raw),
    receivedAt: mail.receivedAt,
    via: mail.via,
    kind: read?.verdict.kind ?? 'none',
    reason,
    detail,
    mailFrom: mail.mailFrom.slice(0, 320),
    rcptTo: mail.rcptTo.slice(0, 20).map((a) => a.slice(0, 320)),
    from: read?.message.from?.slice(0, 320) ?? null,
    subject: read?.message.subject.slice(0, 300) ?? '',
    messageId: read?.verdict.original?.messageId?.slice(0, 500) ?? null,
    recipients: (read?.verdict.recipients ?? []).slice(0, 20).map(({ address, kind, status }) => ({ address: address.slice(0, 320), kind, status })),
    size: raw.byteLength,
  };
}
