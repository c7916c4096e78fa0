/**
 * Our Message-ID, read back: `<campaign id>.<subscriber id>@<from domain>` (messageIdFor in
 * src/delivery/message-template.ts). PURE.
 *
 * A campaign id is `<post slug>--<list>` and a subscriber id is base64url without dots, so the
 * last dot splits the two and the `--` tells ours from anyone else's `<digits>.<digits>@host`.
 * When the pair was not safe as a local part, messageIdFor sent it base64url-encoded: that
 * form is decoded and checked the same way.
 */

export interface OurMessageId {
  campaignId: string;
  subscriberId: string;
}

const SUBSCRIBER_ID = /^[A-Za-z0-9_-]{1,128}$/;

function split(local: string): OurMessageId | null {
  const dot = local.lastIndexOf('.');
  if (dot <= 0) return null;
  const campaignId = local.slice(0, dot);
  const subscriberId = local.slice(dot + 1);
  if (!campaignId.includes('--') || !SUBSCRIBER_ID.test(subscriberId)) return null;
  return { campaignId, subscriberId };
}

/** The campaign and subscriber a Message-ID (with or without angle brackets) names, or null when it is not one of ours. */
export function parseOurMessageId(messageId: string | null | undefined): OurMessageId | null {
  const bare = (messageId ?? '').trim().replace(/^<|>$/g, '');
  const at = bare.lastIndexOf('@');
  if (at <= 0) return null;
  const local = bare.slice(0, at);
  const direct = split(local);
  if (direct) return direct;
  if (!/^[A-Za-z0-9_-]+$/.test(local)) return null;
  const decoded = Buffer.from(local, 'base64url').toString('utf8');
  return Buffer.from(decoded, 'utf8').toString('base64url') === local ? split(decoded) : null;
}
