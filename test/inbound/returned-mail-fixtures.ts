/**
 * Hand-written returned mail about messages a test really sent: a Postfix-style DSN, an ARF
 * complaint, an out-of-office and Apple Mail's unsubscribe, each built around the headers of
 * the message as the SMTP server received it (its Return-Path prepended, as the receiving
 * system does), addressed as a real relay or mailbox provider would address it.
 */
import type { Job } from 'bullmq';
import type { ReturnedMail } from '../../src/inbound/returned-mail-queue.ts';
import type { ReceivedMessage } from '../helpers/smtp-server.ts';

/** The header block of a sent message, as a receiving system stores it. */
export function returnedHeaders(sent: ReceivedMessage): string {
  return `Return-Path: <${sent.from}>\r\n${sent.raw.slice(0, sent.raw.indexOf('\r\n\r\n'))}`;
}

export interface DsnOptions {
  /** Where the relay mails it: the envelope sender of the message (its return path). */
  to: string;
  finalRecipient: string;
  status: string;
  diagnostic: string;
  action?: 'failed' | 'delayed';
  /** The returned copy's headers (returnedHeaders), or none. */
  headers?: string;
  /** Makes two reports about the same recipient different messages. */
  id?: string;
}

export function dsn({ to, finalRecipient, status, diagnostic, action = 'failed', headers, id = '1' }: DsnOptions): string {
  const warning = action === 'delayed' ? '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n\r\n' : '';
  const lines = [
    'Return-Path: <>',
    `Received: by relay.example.net (Postfix) id ${id}; Fri,  3 May 2024 09:15:02 +0000 (UTC)`,
    'Date: Fri,  3 May 2024 09:15:02 +0000 (UTC)',
    'From: MAILER-DAEMON@relay.example.net (Mail Delivery System)',
    `Subject: ${action === 'delayed' ? 'Delayed Mail (still being retried)' : 'Undelivered Mail Returned to Sender'}`,
    `To: ${to}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B-1"',
    `Message-Id: <dsn-${id}@relay.example.net>`,
    '',
    '--B-1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host relay.example.net.',
    '',
    warning + `<${finalRecipient}>: host mx.example.org[192.0.2.10] said: ${diagnostic} (in reply to RCPT TO command)`,
    '',
    '--B-1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; relay.example.net',
    '',
    `Final-Recipient: rfc822; ${finalRecipient}`,
    `Action: ${action}`,
    `Status: ${status}`,
    `Diagnostic-Code: smtp; ${diagnostic}`,
    '',
    ...(headers ? ['--B-1', 'Content-Type: text/rfc822-headers', '', headers, ''] : []),
    '--B-1--',
    '',
  ];
  return lines.join('\r\n');
}

/** An ARF report (RFC 5965) as a feedback loop sends it to the address registered with it, the reader's address redacted. */
export function arfComplaint({ headers, originalMailFrom }: { headers: string; originalMailFrom?: string }): string {
  return [
    'From: Feedback Loop <fbl@feedback.example.com>',
    'To: fbl@bounces.news.example.org',
    'Subject: Email Feedback Report for IP 192.0.2.50',
    'Date: Sat, 4 May 2024 07:00:00 +0000',
    'Message-ID: <fbl-1@feedback.example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"',
    '',
    '--ARF',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is an email abuse report.',
    '',
    '--ARF',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: ExampleFBL/1.0',
    'Version: 1',
    ...(originalMailFrom ? [`Original-Mail-From: <${originalMailFrom}>`] : []),
    'Original-Rcpt-To: <redacted@example.com>',
    '',
    '--ARF',
    'Content-Type: text/rfc822-headers',
    '',
    headers,
    '',
    '--ARF--',
    '',
  ].join('\r\n');
}

/** An out-of-office reply, sent (RFC 3834) to the message's return path. */
export function autoReply({ to, inReplyTo }: { to: string; inReplyTo: string }): string {
  return [
    'From: Reader <reader@example.org>',
    `To: ${to}`,
    'Subject: Automatic reply: Weekly News',
    `In-Reply-To: <${inReplyTo}>`,
    'Auto-Submitted: auto-replied',
    'Message-ID: <ooo-1@example.org>',
    '',
    'I am out of the office until Monday.',
    '',
  ].join('\r\n');
}

/** Apple Mail's unsubscribe: a mail to the List-Unsubscribe mailto with its subject. */
export function mailtoUnsubscribe({ from, to, token }: { from: string; to: string; token: string }): string {
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: unsubscribe-${token}`,
    'Date: Sat, 4 May 2024 10:00:00 +0000',
    'Message-ID: <unsub-1@example.org>',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    '',
    'Apple Mail sent this email to unsubscribe from the message "Weekly News".',
    '',
  ].join('\r\n');
}

/** The token of a sent message's List-Unsubscribe mailto. */
export function mailtoToken(sent: ReceivedMessage): string {
  const token = /subject=unsubscribe-([\w-]+\.[\w-]+)/.exec(sent.raw)?.[1];
  if (!token) throw new Error('the message has no List-Unsubscribe mailto');
  return token;
}

/** A job as the inbound server records it (a plain { data } is enough for the processor). */
export function returnedJob(
  raw: string | Buffer,
  rcptTo: string[],
  { mailFrom = '', receivedAt = new Date(), via = 'smtp' }: { mailFrom?: string; receivedAt?: Date; via?: ReturnedMail['via'] } = {},
): Job<ReturnedMail> {
  const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
  return { data: { raw: bytes.toString('base64'), mailFrom, rcptTo, via, receivedAt: receivedAt.toISOString() } } as Job<ReturnedMail>;
}
