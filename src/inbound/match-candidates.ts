/**
 * What in a returned message can say whom it is about, in the order it is trusted, and which
 * recipient of a report a matched subscriber is. PURE: secrets and the bounce domain are
 * passed in; the lookups are match-returned-mail.ts's.
 */
import { readReturnPath } from '../delivery/return-path.ts';
import type { SigningSecrets } from '../subscribers/tokens.ts';
import type { BounceReason } from './bounce-rules.ts';
import type { InboundVerdict, RecipientVerdict } from './classify-inbound-message.ts';
import { addressesIn, firstField } from './header-fields.ts';
import type { InboundMessage } from './inbound-message.ts';
import { parseOurMessageId, type OurMessageId } from './our-message-id.ts';

export interface MatchCandidates {
  /**
   * Addresses that may be our return path: where the message was delivered (SMTP RCPT TO, then
   * X-Original-To, Delivered-To and To), the returned copy's Return-Path, and a feedback
   * report's Original-Mail-From.
   */
  returnPaths: string[];
  /** Our Message-IDs: the returned copy's, then In-Reply-To and References (a reply to our message). */
  messageIds: OurMessageId[];
  /** The campaign the returned copy names in X-Newsletter-Campaign, if any. */
  campaignHeader: string | null;
}

export function matchCandidates(message: InboundMessage, verdict: InboundVerdict, rcptTo: readonly string[]): MatchCandidates {
  const returnPaths = [
    ...rcptTo,
    ...verdict.deliveredTo,
    verdict.original?.returnPath,
    ...(message.feedbackReport?.get('original-mail-from') ?? []).flatMap(addressesIn),
  ].filter((a): a is string => Boolean(a));
  const ids = [verdict.original?.messageId, ...['in-reply-to', 'references'].flatMap((name) => messageIdsIn(firstField(message.headers, name)))];
  const seen = new Set<string>();
  const messageIds = ids.flatMap((id) => {
    const ours = parseOurMessageId(id);
    const key = ours && `${ours.campaignId}\0${ours.subscriberId}`;
    if (!ours || seen.has(key!)) return [];
    seen.add(key!);
    return [ours];
  });
  return { returnPaths: unique(returnPaths), messageIds, campaignHeader: verdict.original?.campaign ?? null };
}

function messageIdsIn(value: string | null): string[] {
  return [...(value ?? '').matchAll(/<([^<>\s]{1,500})>/g)].map((m) => m[1]!);
}

function unique(addresses: string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((a) => !seen.has(a.toLowerCase()) && Boolean(seen.add(a.toLowerCase())));
}

export type SignedReturnPath = { found: 'signed'; ref: string; subscriberId: string } | { found: 'forged'; address: string } | { found: 'none' };

/**
 * The first candidate that is our return path with our signature. One that has our form and a
 * wrong signature wins over everything: a message that carries a forged return path is hostile,
 * whatever else it says.
 */
export function findReturnPath(candidates: readonly string[], secrets: SigningSecrets, bounceDomain: string | undefined): SignedReturnPath {
  if (!bounceDomain) return { found: 'none' };
  let signed: SignedReturnPath = { found: 'none' };
  for (const address of candidates) {
    const read = readReturnPath(secrets, address, bounceDomain);
    if (!read.ok && read.why === 'forged') return { found: 'forged', address };
    if (read.ok && signed.found === 'none') signed = { found: 'signed', ref: read.ref, subscriberId: read.subscriberId };
  }
  return signed;
}

/** Soft reasons that are about us, not the address, when a report names no recipient to say so. */
const ABOUT_SENDER_REASONS: ReadonlySet<string> = new Set<BounceReason>(['blocked', 'spam', 'policy', 'rate-limited']);

/**
 * What a bounce says about the one subscriber it was matched to (by return path or
 * Message-ID): the recipient with their address; else the only one it names; else, when it
 * names several others (a forwarded address), the mildest, since a hard bounce is the costly
 * mistake; else the verdict of the notice as a whole. Undefined when it is not a bounce.
 */
export function recipientFor(verdict: InboundVerdict, email: string | undefined): RecipientVerdict | undefined {
  if (verdict.kind !== 'hard' && verdict.kind !== 'soft') return undefined;
  const bounces = verdict.recipients.filter((r) => r.kind === 'hard' || r.kind === 'soft');
  const same = email === undefined ? undefined : bounces.find((r) => r.address === email.toLowerCase());
  if (same) return same;
  if (bounces.length > 0) return bounces.find((r) => r.kind === 'soft') ?? bounces[0];
  const reason = verdict.reason ?? 'other';
  return { address: email?.toLowerCase() ?? '', kind: verdict.kind, status: null, reason, aboutSender: ABOUT_SENDER_REASONS.has(reason), diagnostic: null };
}
