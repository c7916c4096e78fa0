/**
 * What a failed send means for that recipient, decided in one place. PURE.
 *
 * - 4xx replies, and timeouts, dropped connections, anything without a reply before the end
 *   of the message was sent: `deferred` (the server or the network may be fine in a minute).
 * - 5xx replies to the recipient or the message: `rejected`, kept with the reply.
 *   A 5.1.x enhanced status (bad mailbox, bad domain) is also a hard bounce.
 * - Authentication failures are ours, not the recipient's: `deferred`, so a wrong
 *   password does not turn a whole list into failures.
 * - No reply after the end of the message was sent (a timeout, a dropped connection): `unknown`.
 *   The server may have accepted it; sending it again could deliver it twice.
 * deliver-one records a rejection, or an unknown outcome, as failed at once; a deferral goes back
 * to BullMQ with the batch.
 *
 * Apart from the outcome: was it the relay that failed, not the recipient? No connection, no
 * greeting, a timeout, a dropped connection, a TLS or login failure, or 421 ("closing
 * channel") say nothing about the recipient and the same about every other one: the relay
 * breaker counts them (relay-breaker.ts). A 421 answering one message's envelope or data with
 * a throttling text (throttle-reply.ts) is its receiving domain's pace instead, not the relay's:
 * deliver-one pauses that domain's group, and the relay breaker counts nothing.
 */
import type { SmtpOutcome } from '../campaign/delivery-outcome.ts';
import { recognizeThrottle } from './throttle-reply.ts';

export interface SmtpFailureLike {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  /** The end of the message had been sent when the send failed (transport.ts). */
  endSent?: boolean;
  /** The session had reached this message's envelope when the send failed (transport.ts). */
  inTransaction?: boolean;
}

export interface FailureVerdict {
  outcome: Exclude<SmtpOutcome, 'accepted'>;
  /** The address does not exist: suppress it for future campaigns. */
  hardBounce: boolean;
  /** What to record and show: the server's reply, or the error when there was none. */
  reply: string;
  /** The reply code's class, for metrics; `none` when no server reply came (timeout, dropped connection). */
  replyClass: '4xx' | '5xx' | 'none';
  /** The relay failed (connection, greeting, timeout, TLS, login, 421), not this recipient. */
  relayFailure: boolean;
}

/** nodemailer's codes for failures of the connection itself. */
const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EAUTH']);

function isRelayFailure(error: SmtpFailureLike, code: number): boolean {
  if (code === 421 && recognizeThrottle(error)) return false;
  return CONNECTION_CODES.has(error.code ?? '') || error.command === 'CONN' || error.command?.startsWith('AUTH') === true || code === 421;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}

export function classifyFailure(error: SmtpFailureLike): FailureVerdict {
  const reply = oneLine(error.response || error.message || String(error.code ?? 'unknown error'));
  const code = typeof error.responseCode === 'number' ? error.responseCode : Number(/^([2-5]\d\d)\b/.exec(error.response ?? '')?.[1]);
  const replyClass = code >= 500 && code < 600 ? '5xx' : code >= 400 && code < 500 ? '4xx' : 'none';
  const relayFailure = isRelayFailure(error, code);
  if (error.endSent && replyClass === 'none') return { outcome: 'unknown', hardBounce: false, reply, replyClass, relayFailure };
  if (error.code === 'EAUTH' || error.command?.startsWith('AUTH')) return { outcome: 'deferred', hardBounce: false, reply, replyClass, relayFailure };
  if (replyClass === '5xx') {
    const enhanced = /\b5\.(\d{1,3})\.(\d{1,3})\b/.exec(error.response ?? '');
    return { outcome: 'rejected', hardBounce: enhanced?.[1] === '1', reply, replyClass, relayFailure };
  }
  // A 4xx, or no reply before the end (timeout, dropped connection, any other error): we cannot know the recipient is at fault.
  return { outcome: 'deferred', hardBounce: false, reply, replyClass, relayFailure };
}
