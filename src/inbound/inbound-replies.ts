/**
 * What `newsletter inbound` answers, in one place: the SMTP code a relay acts on and the
 * RFC 3463 enhanced status it reads (written in the text, since smtp-server would otherwise
 * pick 5.1.1 for every 550). A 4xx makes the relay try again later; a 5xx makes it give up
 * and, for a bounce of a bounce, drop it (the envelope sender of a bounce is empty). PURE.
 */
export interface InboundReply {
  readonly code: number;
  readonly text: string;
}

export const INBOUND_REPLIES = {
  /** RCPT TO for another domain: this server is nobody's relay. */
  relayingDenied: (bounceDomain: string): InboundReply => ({ code: 550, text: `5.7.1 relaying denied: this server takes mail for ${bounceDomain} only` }),
  /** RCPT TO on our domain that is neither a return path nor the unsubscribe mailbox. */
  noSuchUser: { code: 550, text: '5.1.1 no such user here' } as InboundReply,
  tooBig: (maxBytes: number): InboundReply => ({ code: 552, text: `5.3.4 message too big: the limit is ${maxBytes} bytes` }),
  /** Redis refused or did not answer: nothing was kept, so the relay must send it again. */
  notRecorded: { code: 451, text: '4.3.0 cannot keep the message right now: try again later' } as InboundReply,
  shuttingDown: { code: 421, text: '4.3.2 shutting down: try again later' } as InboundReply,
  recorded: (id: string): string => `2.0.0 recorded as ${id}`,
} as const;
