/**
 * What a returned message does: classify it (classify-inbound-message.ts), find whom it is
 * about (the return path first, signature checked; then our Message-ID; then the failed
 * recipient's address, never guessed), and apply it to the subscriber and the campaign.
 * Applying the same message twice changes nothing.
 *
 * STUB: the interface the inbound process wires; the matching and applying are being written.
 */
import type { Job } from 'bullmq';
import type { CampaignStore } from '../campaign/campaign-store.ts';
import type { Logger } from '../logger.ts';
import type { SubscriberStore } from '../subscribers/subscriber-store.ts';
import type { SigningSecrets } from '../subscribers/tokens.ts';
import { classifyInboundMessage, type InboundKind } from './classify-inbound-message.ts';
import { parseInboundMessage } from './parse-inbound-message.ts';
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
}

/** What one returned message came to: its kind, and whom it was matched to (none: unmatched). */
export interface ReturnedMailOutcome {
  kind: InboundKind;
  matched: { subscriberId: string; campaignId: string | undefined; by: 'return-path' | 'message-id' | 'address' } | undefined;
}

export function createReturnedMailProcessor(deps: ReturnedMailDeps): (job: Job<ReturnedMail>) => Promise<ReturnedMailOutcome> {
  return async (job) => {
    const verdict = classifyInboundMessage(await parseInboundMessage(Buffer.from(job.data.raw, 'base64')));
    deps.log?.info({ kind: verdict.kind, via: job.data.via }, 'returned mail classified (not applied yet)');
    return { kind: verdict.kind, matched: undefined };
  };
}
