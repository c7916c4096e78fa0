/**
 * Whom `newsletter inbound` takes mail for, decided at RCPT TO: the return paths of
 * BOUNCE_DOMAIN and its unsubscribe mailbox, the domain in any case. Every other recipient
 * is refused there, so the server never relays and never stores mail that is not ours.
 * A return path with our shape but a wrong signature is taken: the processor records it as
 * unmatched (forged, or signed with a secret retired twice), so the operator sees it. PURE.
 */
import { readReturnPath, unsubscribeMailbox } from '../delivery/return-path.ts';
import type { SigningSecrets } from '../subscribers/tokens.ts';
import { INBOUND_REPLIES, type InboundReply } from './inbound-replies.ts';

export type RecipientVerdict = { ok: true; as: 'return-path' | 'unsubscribe' } | { ok: false; reply: InboundReply };

export function acceptRecipient(address: string, { bounceDomain, secrets }: { bounceDomain: string; secrets: SigningSecrets }): RecipientVerdict {
  const at = address.lastIndexOf('@');
  const domain = bounceDomain.toLowerCase();
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain) return { ok: false, reply: INBOUND_REPLIES.relayingDenied(domain) };
  if (address.toLowerCase() === unsubscribeMailbox(domain)) return { ok: true, as: 'unsubscribe' };
  const read = readReturnPath(secrets, address, domain);
  if (read.ok || read.why === 'forged') return { ok: true, as: 'return-path' };
  return { ok: false, reply: INBOUND_REPLIES.noSuchUser };
}
