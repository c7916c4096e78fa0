/**
 * What one inbound message is, and what it says about each recipient. PURE: an InboundMessage
 * (parse-inbound-message.ts) in, an InboundVerdict out; no I/O, no clock, no configuration.
 *
 * The kinds, tried in this order (the first that fits wins, and the order is part of the rule):
 *
 * - `unsubscribe`: the subject is `unsubscribe-<token>`, what the `mailto:` of our
 *   List-Unsubscribe asks for (listUnsubscribeHeaders in src/subscribers/tokens.ts). The token
 *   is handed back unverified: the caller checks it with verifyToken. First, because mail
 *   clients that send it for the reader (Apple Mail) mark it `Auto-Submitted: auto-replied`.
 * - `complaint`: an ARF feedback report (RFC 5965: multipart/report; report-type=feedback-report,
 *   or a message/feedback-report part, or its fields in the text), or a feedback loop without
 *   the MIME type that returns our message with the reader's address in it (Microsoft's
 *   X-HmXmrOriginalRecipient). Feedback-Type `not-spam` (the reader said it is NOT spam) and
 *   `auth-failure` (a DMARC/DKIM failure report about our domain) are not complaints: `none`.
 * - `hard` / `soft`: a bounce. A delivery status report (RFC 3464) is read per recipient; a
 *   bounce written only for people is recognised by who sent it (mailer-daemon, postmaster,
 *   `From: <>`), or by its words together with its subject or an empty return path (a reader
 *   writing "could not be delivered" is not a bounce), and read per recipient from its text
 *   (failed-recipients.ts). Each recipient is judged by bounce-rules.ts; the message's kind is
 *   `hard` if any recipient is hard, else `soft` if any is soft, else `none` (a delay warning,
 *   or a report of successful delivery).
 * - `auto-reply`: RFC 3834 `Auto-Submitted: auto-replied`, `X-Autoreply`, `Precedence:
 *   auto_reply`, or an out-of-office / vacation subject. Never a bounce: the address works.
 *   Tried after the report kinds, because bounces carry `Auto-Submitted` too.
 * - `none`: anything else (a reader's reply, spam, a notification).
 */
import { DELAY_WARNING, judgeFailure, type BounceReason } from './bounce-rules.ts';
import type { DeliveryStatusRecipient } from './delivery-status.ts';
import { findFailedRecipients, noticeOf, type FailedRecipient } from './failed-recipients.ts';
import { firstField } from './header-fields.ts';
import type { InboundMessage, OriginalMessage } from './inbound-message.ts';
import { addressesIn } from './header-fields.ts';
import { findHeadersInText } from './original-message.ts';

export type InboundKind = 'hard' | 'soft' | 'complaint' | 'auto-reply' | 'unsubscribe' | 'none';

export type InboundReason = BounceReason | 'complaint' | 'auto-reply' | 'unsubscribe';

export interface RecipientVerdict {
  /** As the report wrote it (lower case). The address we sent to, when the report names both. */
  address: string;
  kind: InboundKind;
  /** RFC 3463 code, or null. */
  status: string | null;
  reason: InboundReason;
  /** Refused because of the sender (blocklist, policy, authentication, rate): never count it against the subscriber. */
  aboutSender: boolean;
  /** The reply or text that says why, one line, or null. */
  diagnostic: string | null;
}

export interface InboundVerdict {
  kind: InboundKind;
  recipients: RecipientVerdict[];
  /** The returned copy's headers, for matching: Message-ID, List-Id, Return-Path (VERP), To. */
  original: OriginalMessage | null;
  /**
   * Where this message itself was sent (its X-Original-To, Delivered-To and To, in that order,
   * as written): a bounce goes to the envelope sender, so for ours, the VERP return path.
   */
  deliveredTo: string[];
  /** The reason when no recipient could be named (the caller may still match by Message-ID or VERP). */
  reason: InboundReason | null;
  /** ARF Feedback-Type, lower case, for a complaint. */
  feedbackType?: string;
  /** From the subject `unsubscribe-<token>`, not verified. */
  unsubscribeToken?: string;
}

const UNSUBSCRIBE_SUBJECT = /^\s*unsubscribe-([A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{1,100})\s*$/i;

/** Feedback types that are not a reader's complaint. */
const NOT_COMPLAINTS = new Set(['not-spam', 'auth-failure']);

/** Who sends bounces. */
const BOUNCE_SENDER = /^(?:mailer-daemon|mailer_daemon|mail-daemon|maildaemon|postmaster|post_master|mail\.delivery\.system|mdaemon|bounces?|nobody)(?:@|$)/i;
const BOUNCE_SENDER_NAME = /mail delivery (?:system|subsystem|service)|mailer-daemon|postmaster/i;
const BOUNCE_SUBJECT =
  /undeliver|undelivered|delivery (?:status notification|failure|failed|has failed|notification|problem|status)|returned mail|mail delivery (?:failed|failure|system)|failure notice|failure delivery|non[- ]?delivery|could not be delivered|returning message to sender|mail system error|delivery failure|not delivered|mail failure|error sending your mail|mail failed|delivery report/i;
/** Words with which a notice says a message did not arrive. */
const BOUNCE_WORDS =
  /could ?n[o']t be delivered|could not deliver|was not delivered|wasn't delivered|not be delivered|undeliverable|delivery (?:has )?failed|failed to deliver|unable to deliver|permanent(?:ly)? (?:error|fail)|error delivering|did not like|delivery errors|delivery problems|fatal errors|following address(?:es)? failed|failed permanently|rejected by|was rejected|has been rejected|could not be sent|trouble delivering|not delivered to/i;

const AUTO_REPLY_SUBJECT =
  /^\s*(?:auto(?:matic)?[ -]?(?:reply|response|antwort|answer)|out of (?:the )?office|ooo\b|on vacation|vacation|abwesen|absence|away from|r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|automatisch antwoord|自動返信|自动回复|不在|auto:)/i;

export function classifyInboundMessage(message: InboundMessage): InboundVerdict {
  // Case kept: a VERP address carries a signature that is checked byte for byte.
  const seen = new Set<string>();
  const deliveredTo = ['x-original-to', 'delivered-to', 'to']
    .flatMap((name) => (message.headers.get(name) ?? []).flatMap(addressesIn))
    .filter((address) => !seen.has(address.toLowerCase()) && Boolean(seen.add(address.toLowerCase())));
  return { ...classify(message), deliveredTo };
}

function classify(message: InboundMessage): Omit<InboundVerdict, 'deliveredTo'> {
  const original = message.original;
  const token = UNSUBSCRIBE_SUBJECT.exec(message.subject)?.[1];
  if (token && message.from) {
    return { kind: 'unsubscribe', recipients: [single(message.from, 'unsubscribe', 'unsubscribe')], original, reason: 'unsubscribe', unsubscribeToken: token };
  }
  const complaint = readComplaint(message);
  if (complaint) return complaint;
  const dsn = (message.deliveryStatus?.recipients ?? []).filter((r) => usableAddress(r.finalRecipient ?? r.originalRecipient));
  if (dsn.length > 0) return bounceVerdict(message, fromDeliveryStatus(message, dsn));
  const bounceSender = isBounceSender(message);
  if (!bounceSender && isAutoReply(message)) {
    return { kind: 'auto-reply', recipients: message.from ? [single(message.from, 'auto-reply', 'auto-reply')] : [], original, reason: 'auto-reply' };
  }
  const notice = noticeOf(message.text, copyIndex(message.text));
  // A notice from someone who is not a mail system is a bounce only if both its words and its subject (or its empty return path) say so.
  const nullSender = /^\s*<\s*>\s*$/.test(firstField(message.headers, 'return-path') ?? '');
  if (bounceSender || (BOUNCE_WORDS.test(notice) && (BOUNCE_SUBJECT.test(message.subject) || nullSender)))
    return bounceVerdict(message, fromText(message, notice));
  if (isAutoReply(message)) {
    return { kind: 'auto-reply', recipients: message.from ? [single(message.from, 'auto-reply', 'auto-reply')] : [], original, reason: 'auto-reply' };
  }
  return { kind: 'none', recipients: [], original, reason: null };
}

function single(address: string, kind: InboundKind, reason: InboundReason): RecipientVerdict {
  return { address: address.toLowerCase(), kind, status: null, reason, aboutSender: false, diagnostic: null };
}

function usableAddress(address: string | null): address is string {
  return address !== null && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address);
}

function isBounceSender(message: InboundMessage): boolean {
  const from = firstField(message.headers, 'from') ?? '';
  if (message.from && BOUNCE_SENDER.test(message.from)) return true;
  // `From: <>` or `From: MAILER-DAEMON` without a domain: only mail systems write those.
  return BOUNCE_SENDER_NAME.test(from) || /^\s*<>\s*$/.test(from) || BOUNCE_SENDER.test(from.trim()) || message.headers.has('x-failed-recipients');
}

function isAutoReply(message: InboundMessage): boolean {
  const autoSubmitted = firstField(message.headers, 'auto-submitted') ?? '';
  const precedence = firstField(message.headers, 'precedence') ?? '';
  return (
    /^\s*auto-replied/i.test(autoSubmitted) ||
    message.headers.has('x-autoreply') ||
    message.headers.has('x-autorespond') ||
    message.headers.has('x-auto-reply') ||
    /auto[_-]reply/i.test(precedence) ||
    AUTO_REPLY_SUBJECT.test(message.subject)
  );
}

function copyIndex(text: string): number | null {
  const found = findHeadersInText(text);
  // A pasted block counts as the returned copy only when it has the headers a transmitted message has.
  return found && (found.fields.has('received') || found.fields.has('return-path') || found.fields.has('mime-version')) ? found.index : null;
}

/** Addresses that are someone else than the failed recipient: the report's own From and To, and our sender address. */
function notRecipients(message: InboundMessage): string[] {
  const own = ['from', 'to', 'reply-to', 'sender', 'return-path'].flatMap((name) => (message.headers.get(name) ?? []).flatMap(addressesIn));
  const ours = [message.original?.from, message.original?.returnPath].filter((a): a is string => Boolean(a));
  return [...own, ...ours];
}

function fromDeliveryStatus(message: InboundMessage, dsn: DeliveryStatusRecipient[]): RecipientVerdict[] {
  const notice = noticeOf(message.text, copyIndex(message.text));
  const named = new Map(findFailedRecipients(notice, notRecipients(message)).map((r) => [r.address, r.section]));
  return dsn.flatMap((entry) => {
    const address = (usableAddress(entry.finalRecipient) ? entry.finalRecipient : entry.originalRecipient!).toLowerCase();
    const section = named.get(address) ?? named.get(entry.originalRecipient?.toLowerCase() ?? '') ?? (dsn.length === 1 ? notice : '');
    const verdict = judgeFailure({
      action: entry.action,
      status: entry.status,
      reply: entry.diagnosticCode ?? section,
      notice: section,
      fromRecipientDomain: sameDomain(message.from, address),
    });
    if (verdict.kind === 'none') return [];
    return [{ address, kind: verdict.kind, status: verdict.status, reason: verdict.reason, aboutSender: verdict.aboutSender, diagnostic: verdict.diagnostic }];
  });
}

function fromText(message: InboundMessage, notice: string): RecipientVerdict[] {
  let named: FailedRecipient[] = findFailedRecipients(notice, notRecipients(message));
  // Exim lists the failed addresses in a header of their own: trust it over reading the text.
  const failedHeader = (message.headers.get('x-failed-recipients') ?? []).flatMap(addressesIn).map((a) => a.toLowerCase());
  if (failedHeader.length > 0) {
    const sections = new Map(named.map((r) => [r.address, r.section]));
    named = failedHeader.map((address) => ({ address, section: sections.get(address) ?? (failedHeader.length === 1 ? notice : '') }));
  }
  // We send one message per recipient: a bounce that names nobody is about the one address in the returned copy's To.
  const returnedTo = message.original?.to ?? [];
  if (named.length === 0 && returnedTo.length === 1 && !notRecipients(message).some((a) => a.toLowerCase() === returnedTo[0]!.toLowerCase())) {
    named = [{ address: returnedTo[0]!.toLowerCase(), section: notice }];
  }
  return named.flatMap(({ address, section }) => {
    const verdict = judgeFailure({ action: null, status: null, reply: section, notice: section, fromRecipientDomain: sameDomain(message.from, address) });
    if (verdict.kind === 'none') return [];
    return [{ address, kind: verdict.kind, status: verdict.status, reason: verdict.reason, aboutSender: verdict.aboutSender, diagnostic: verdict.diagnostic }];
  });
}

/** Whether two addresses' domains are the same, or one is a subdomain of the other (mx.example.org and example.org). */
function sameDomain(a: string | null, b: string): boolean {
  const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  if (!a || !a.includes('@')) return false;
  const [x, y] = [domainOf(a), domainOf(b)];
  return x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`);
}

function bounceVerdict(message: InboundMessage, recipients: RecipientVerdict[]): Omit<InboundVerdict, 'deliveredTo'> {
  const original = message.original;
  if (recipients.length === 0) {
    // A bounce that names no address we can read: judge the notice as a whole, so a match by Message-ID or VERP still has a kind.
    const notice = noticeOf(message.text, copyIndex(message.text));
    if (!message.deliveryStatus && BOUNCE_WORDS.test(notice) && !DELAY_WARNING.test(notice)) {
      const verdict = judgeFailure({ action: null, status: null, reply: notice, notice, fromRecipientDomain: false });
      return { kind: verdict.kind === 'hard' ? 'soft' : verdict.kind, recipients: [], original, reason: verdict.reason };
    }
    return { kind: 'none', recipients: [], original, reason: null };
  }
  const kind: InboundKind = recipients.some((r) => r.kind === 'hard') ? 'hard' : recipients.some((r) => r.kind === 'soft') ? 'soft' : 'none';
  return { kind, recipients, original, reason: null };
}

function readComplaint(message: InboundMessage): Omit<InboundVerdict, 'deliveredTo'> | null {
  const report = message.feedbackReport;
  const feedbackType = firstField(report ?? new Map<string, string[]>(), 'feedback-type')?.toLowerCase() ?? null;
  const isArf = message.reportType === 'feedback-report' || feedbackType !== null;
  const loopRecipient = message.original?.feedbackLoopRecipient ?? null;
  if (!isArf && !loopRecipient) return null;
  const original = message.original;
  if (feedbackType && NOT_COMPLAINTS.has(feedbackType)) return { kind: 'none', recipients: [], original, reason: null, feedbackType };
  const named = [...(report?.get('original-rcpt-to') ?? []), ...(report?.get('removal-recipient') ?? [])].flatMap(addressesIn);
  if (loopRecipient) named.push(loopRecipient);
  // Without a named recipient, the returned copy's To is the subscriber when the copy is ours.
  const addresses = named.length > 0 ? named : (original?.to ?? []);
  const unique = [...new Set(addresses.map((a) => a.toLowerCase()))];
  return {
    kind: 'complaint',
    recipients: unique.map((address) => single(address, 'complaint', 'complaint')),
    original,
    reason: 'complaint',
    feedbackType: feedbackType ?? 'abuse',
  };
}
