/**
 * What one message carries for its recipient: the footer's unsubscribe URL, the
 * List-Unsubscribe value (the same signed token), and the envelope sender. PURE. The mailto
 * address is unsubscribe@BOUNCE_DOMAIN when bounces are read (it reaches `newsletter
 * inbound`), else the Reply-To, else From; the envelope sender is the signed return path
 * (return-path.ts) when bounces are read, else undefined (the From address).
 */
import type { Identity } from '../config.ts';
import { createToken, listUnsubscribeHeaders, unsubscribeUrl } from '../subscribers/tokens.ts';
import { campaignRef, returnPathFor, TEST_REF, unsubscribeMailbox } from './return-path.ts';

export interface RecipientLinks {
  unsubscribeUrl: string;
  listUnsubscribe: string;
  /** MAIL FROM: the recipient's own return path with BOUNCE_DOMAIN; undefined without (the From address). */
  returnPath: string | undefined;
}

/**
 * The links for one subscriber of one campaign (a campaign id), or of a message outside any
 * campaign (`TEST_REF`, `CONFIRM_REF`: the ref itself). Campaign refs are remembered: a
 * campaign's messages compute it once.
 */
export function recipientLinks(
  secret: string,
  publicUrl: string,
  identity: Pick<Identity, 'replyTo' | 'fromAddress'>,
  bounceDomain?: string,
): (subscriberId: string, campaign?: { id: string } | { ref: string }) => RecipientLinks {
  const mailto = bounceDomain ? unsubscribeMailbox(bounceDomain) : (identity.replyTo ?? identity.fromAddress);
  const refs = new Map<string, string>();
  const refOf = (campaign: { id: string } | { ref: string }) => {
    if ('ref' in campaign) return campaign.ref;
    let ref = refs.get(campaign.id);
    if (ref === undefined) refs.set(campaign.id, (ref = campaignRef(campaign.id)));
    return ref;
  };
  return (subscriberId, campaign = { ref: TEST_REF }) => {
    const token = createToken(secret, subscriberId, 'unsubscribe');
    return {
      unsubscribeUrl: unsubscribeUrl(publicUrl, token),
      listUnsubscribe: listUnsubscribeHeaders({ publicUrl, mailto, token })['List-Unsubscribe'],
      returnPath: bounceDomain ? returnPathFor(secret, bounceDomain, refOf(campaign), subscriberId) : undefined,
    };
  };
}
