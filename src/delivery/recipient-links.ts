/**
 * The per-recipient unsubscribe links: the footer URL and the List-Unsubscribe value,
 * carrying the same signed token. PURE. The mailto address is the Reply-To, else From.
 */
import type { Identity } from '../config.ts';
import { createToken, listUnsubscribeHeaders, unsubscribeUrl } from '../subscribers/tokens.ts';

export interface RecipientLinks {
  unsubscribeUrl: string;
  listUnsubscribe: string;
}

export function recipientLinks(
  secret: string,
  publicUrl: string,
  identity: Pick<Identity, 'replyTo' | 'fromAddress'>,
): (subscriberId: string) => RecipientLinks {
  const mailto = identity.replyTo ?? identity.fromAddress;
  return (subscriberId) => {
    const token = createToken(secret, subscriberId, 'unsubscribe');
    return {
      unsubscribeUrl: unsubscribeUrl(publicUrl, token),
      listUnsubscribe: listUnsubscribeHeaders({ publicUrl, mailto, token })['List-Unsubscribe'],
    };
  };
}
