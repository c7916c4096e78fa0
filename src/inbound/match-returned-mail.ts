/**
 * Whom a returned message is about, never guessed. Tried in this order, the first that
 * answers wins:
 *
 * 1. A mailto unsubscribe: its token, verified (purpose `unsubscribe`, current or previous
 *    secret), names the subscriber. The campaign is the one it replies to (In-Reply-To), else
 *    the last campaign accepted for them: mail clients send it right after reading one.
 * 2. The return path (VERP), when BOUNCE_DOMAIN is set: where the message was delivered, else
 *    the returned copy's Return-Path or a feedback report's Original-Mail-From. Its signature
 *    names the subscriber and its ref the campaign (one of the newest RECENT_CAMPAIGNS; test
 *    sends and confirmation emails name none). A return path of our form with a wrong signature
 *    makes the whole message unmatched (`forged`): nothing it says is believed.
 * 3. Our Message-ID (`<campaign>.<subscriber>@domain`) in the returned copy, or in In-Reply-To
 *    or References: only when that campaign exists and its ledger has that subscriber.
 * 4. For a bounce only, each failed recipient's address, when it is a subscriber's: only for
 *    mail read from a mailbox (IMAP) or without BOUNCE_DOMAIN, where bounces come back unsigned.
 *    Over SMTP with BOUNCE_DOMAIN, a bounce must name us by a signed return path or our
 *    Message-ID: anyone can write a DSN naming someone else's address to the bounce domain, and
 *    it must not bounce them. The campaign is the one the returned copy names (Message-ID,
 *    X-Newsletter-Campaign) when its ledger has that subscriber, else none. Complaints are never
 *    matched by address: feedback loops redact it, and any address they show may be the
 *    reader's forwarding one.
 *
 * Anything else is unmatched, with the reason (metrics' UNMATCHED_REASONS). Reads only.
 */
import type { CampaignStore } from '../campaign/campaign-store.ts';
import { CONFIRM_REF, TEST_REF, campaignRef } from '../delivery/return-path.ts';
import type { UnmatchedReason } from '../metrics/definitions.ts';
import { maskEmail } from '../logger.ts';
import type { Subscriber } from '../subscribers/subscriber.ts';
import type { SubscriberStore } from '../subscribers/subscriber-store.ts';
import { verifyToken, type SigningSecrets } from '../subscribers/tokens.ts';
import type { InboundVerdict, RecipientVerdict } from './classify-inbound-message.ts';
import type { InboundMessage } from './inbound-message.ts';
import { findReturnPath, matchCandidates, recipientFor, type MatchCandidates } from './match-candidates.ts';
import type { RecentCampaigns } from './recent-campaigns.ts';

export type MatchedBy = 'return-path' | 'message-id' | 'address' | 'token';

export interface Match {
  subscriberId: string;
  /** As stored now; undefined when the subscriber was removed since (the campaign still counts). */
  subscriber: Subscriber | undefined;
  campaignId: string | undefined;
  /** What the message was: `campaign <id>`, `the test send`, `the confirmation email`, or `our message`. */
  source: string;
  by: MatchedBy;
  /** What a bounce says about this recipient; undefined for other kinds. */
  recipient: RecipientVerdict | undefined;
}

export type MatchResult = { matches: [Match, ...Match[]] } | { matches: []; unmatched: UnmatchedReason; detail: string };

export interface MatchDeps {
  campaigns: Pick<CampaignStore, 'get' | 'ledgerEntry'>;
  subscribers: Pick<SubscriberStore, 'get' | 'getByEmail'>;
  recent: Pick<RecentCampaigns, 'byReturnPathRef' | 'acceptedFor'>;
  secrets: SigningSecrets;
  bounceDomain: string | undefined;
}

const unmatched = (reason: UnmatchedReason, detail: string): MatchResult => ({ matches: [], unmatched: reason, detail });

const sourceOf = (campaignId: string | undefined) => (campaignId ? `campaign ${campaignId}` : 'our message');

export async function matchReturnedMail(
  deps: MatchDeps,
  { message, verdict, rcptTo, via }: { message: InboundMessage; verdict: InboundVerdict; rcptTo: readonly string[]; via: 'smtp' | 'imap' },
): Promise<MatchResult> {
  if (verdict.kind === 'none') return unmatched('unclassified', 'not a bounce, complaint, auto-reply or unsubscribe');
  const candidates = matchCandidates(message, verdict, rcptTo);
  if (verdict.kind === 'unsubscribe') return byToken(deps, verdict.unsubscribeToken ?? '', candidates);

  const returnPath = findReturnPath(candidates.returnPaths, deps.secrets, deps.bounceDomain);
  if (returnPath.found === 'forged') {
    return unmatched('forged', `the return path ${maskEmail(returnPath.address)} has our form but not our signature`);
  }
  if (returnPath.found === 'signed') {
    const { ref, subscriberId } = returnPath;
    const campaignId = ref === TEST_REF || ref === CONFIRM_REF ? undefined : await campaignOfRef(deps, ref, subscriberId, candidates);
    const subscriber = await deps.subscribers.get(subscriberId);
    if (!subscriber && !campaignId) return unmatched('unknown_delivery', `the return path names subscriber ${subscriberId}, who no longer exists`);
    const source = ref === TEST_REF ? 'the test send' : ref === CONFIRM_REF ? 'the confirmation email' : sourceOf(campaignId);
    return { matches: [{ subscriberId, subscriber, campaignId, source, by: 'return-path', recipient: recipientFor(verdict, subscriber?.email) }] };
  }

  let unknown: string | undefined;
  for (const { campaignId, subscriberId } of candidates.messageIds) {
    if (!(await wasSent(deps, campaignId, subscriberId))) {
      unknown ??= `our Message-ID names campaign ${campaignId} and subscriber ${subscriberId}, and that campaign was never sent to them`;
      continue;
    }
    const subscriber = await deps.subscribers.get(subscriberId);
    return {
      matches: [{ subscriberId, subscriber, campaignId, source: sourceOf(campaignId), by: 'message-id', recipient: recipientFor(verdict, subscriber?.email) }],
    };
  }

  const unsignedBouncesExpected = via === 'imap' || deps.bounceDomain === undefined;
  if ((verdict.kind === 'hard' || verdict.kind === 'soft') && unsignedBouncesExpected) {
    const matches: Match[] = [];
    for (const recipient of verdict.recipients) {
      if (recipient.kind !== 'hard' && recipient.kind !== 'soft') continue;
      const subscriber = await deps.subscribers.getByEmail(recipient.address).catch(() => undefined);
      if (!subscriber || matches.some((m) => m.subscriberId === subscriber.id)) continue;
      const campaignId = await campaignNamed(deps, candidates, subscriber.id);
      matches.push({ subscriberId: subscriber.id, subscriber, campaignId, source: sourceOf(campaignId), by: 'address', recipient });
    }
    const [first, ...more] = matches;
    if (first) return { matches: [first, ...more] };
  }
  if (unknown) return unmatched('unknown_delivery', unknown);
  const named = verdict.recipients.length > 0 ? `; it names ${verdict.recipients.map((r) => maskEmail(r.address)).join(', ')}, not a subscriber` : '';
  return unmatched('not_ours', `no return path, Message-ID or subscriber address of ours${named}`);
}

async function wasSent(deps: MatchDeps, campaignId: string, subscriberId: string): Promise<boolean> {
  return (await deps.campaigns.get(campaignId)) !== undefined && (await deps.campaigns.ledgerEntry(campaignId, subscriberId)) !== undefined;
}

/** A ref older than the recent campaigns is still found when the returned copy's Message-ID names a campaign with that very ref. */
async function campaignOfRef(deps: MatchDeps, ref: string, subscriberId: string, candidates: MatchCandidates): Promise<string | undefined> {
  const recent = await deps.recent.byReturnPathRef(ref);
  if (recent) return recent;
  const named = candidates.messageIds.find((m) => m.subscriberId === subscriberId && campaignRef(m.campaignId) === ref);
  return named && (await deps.campaigns.get(named.campaignId)) ? named.campaignId : undefined;
}

/** The campaign the returned copy names, if it was sent to this subscriber. */
async function campaignNamed(deps: MatchDeps, candidates: MatchCandidates, subscriberId: string): Promise<string | undefined> {
  const named = [...candidates.messageIds.map((m) => m.campaignId), candidates.campaignHeader].filter((c): c is string => Boolean(c));
  for (const campaignId of new Set(named)) if (await wasSent(deps, campaignId, subscriberId)) return campaignId;
  return undefined;
}

async function byToken(deps: MatchDeps, token: string, candidates: MatchCandidates): Promise<MatchResult> {
  let subscriberId: string;
  try {
    subscriberId = verifyToken(deps.secrets, token, 'unsubscribe');
  } catch {
    return unmatched('token_invalid', 'the unsubscribe token is forged, cut short or signed with a retired secret');
  }
  const subscriber = await deps.subscribers.get(subscriberId);
  if (!subscriber) return unmatched('token_invalid', `the unsubscribe token names subscriber ${subscriberId}, who no longer exists`);
  let campaignId: string | undefined;
  for (const m of candidates.messageIds) {
    if (m.subscriberId === subscriberId && (await wasSent(deps, m.campaignId, subscriberId))) {
      campaignId = m.campaignId;
      break;
    }
  }
  campaignId ??= (await deps.recent.acceptedFor(subscriberId, 1))[0];
  return { matches: [{ subscriberId, subscriber, campaignId, source: sourceOf(campaignId), by: 'token', recipient: undefined }] };
}
