/**
 * What came back by mail (a bounce, a complaint, a mailto unsubscribe), kept durably before
 * anyone says "received": `newsletter inbound` answers 250 (or flags an IMAP message as read)
 * only once the message is a job in this queue, so a crash never loses one. The job is then
 * classified and applied by the inbound process. The job id is the message's own hash, so
 * the same message received twice (a relay retrying, a mailbox read again) is one job.
 */
import { createHash } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';

export const RETURNED_MAIL_QUEUE = 'returned-mail';

export interface ReturnedMail {
  /** The whole message as received, base64 (it may hold any bytes). */
  raw: string;
  /** SMTP MAIL FROM ('' for a bounce, whose envelope sender is empty); for IMAP, the Return-Path. */
  mailFrom: string;
  /** SMTP RCPT TO (our return path or the unsubscribe mailbox); for IMAP, Delivered-To / To. */
  rcptTo: string[];
  via: 'smtp' | 'imap';
  /** ISO 8601. */
  receivedAt: string;
}

/** Kept a week after processing, so the same message arriving again within it is not a new job. */
export const RETURNED_MAIL_JOB_OPTIONS: JobsOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

export function returnedMailJobId(raw: Buffer, rcptTo: readonly string[]): string {
  return createHash('sha256')
    .update(raw)
    .update('\0')
    .update(
      [...rcptTo]
        .map((a) => a.toLowerCase())
        .sort()
        .join(','),
    )
    .digest('hex');
}

/** Resolves once the message is stored in Redis; only then may its sender be told it arrived. */
export async function recordReturnedMail(
  queue: Queue<ReturnedMail>,
  mail: { raw: Buffer; mailFrom: string; rcptTo: string[]; via: ReturnedMail['via'] },
  now: Date,
): Promise<string> {
  const jobId = returnedMailJobId(mail.raw, mail.rcptTo);
  await queue.add(
    'returned',
    { raw: mail.raw.toString('base64'), mailFrom: mail.mailFrom, rcptTo: mail.rcptTo, via: mail.via, receivedAt: now.toISOString() },
    { ...RETURNED_MAIL_JOB_OPTIONS, jobId },
  );
  return jobId;
}
