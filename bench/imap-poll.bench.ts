/**
 * npm run bench:imap: returned messages per second read from a mailbox by the IMAP poller
 * (src/inbound/imap-poller.ts) from a private Dovecot on this machine, each recorded in the
 * returned-mail queue (BullMQ, the Redis at BENCH_REDIS_URL, under a prefix deleted afterwards)
 * and then flagged. Also with a record that stores nothing, to tell the IMAP part from Redis.
 * BENCH_MESSAGES overrides the count (default 2,000); the messages are appended before the
 * clock starts.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { clearPrefix } from '../src/demo/clear-prefix.ts';
import { startImapPoller, type MailboxMessage } from '../src/inbound/imap-poller.ts';
import { recordReturnedMail, RETURNED_MAIL_QUEUE, type ReturnedMail } from '../src/inbound/returned-mail-queue.ts';
import { createLogger } from '../src/logger.ts';
import { startTestDovecot, type TestDovecot } from '../test/helpers/dovecot.ts';

const N = Number(process.env.BENCH_MESSAGES ?? 2_000);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const out = (line: string) => process.stderr.write(`${line}\n`);

/** A DSN of about 2 KB, the size of a typical bounce with its returned headers. */
function dsn(n: number): string {
  const returned = Array.from({ length: 20 }, (_, i) => `X-Returned-${i}: ${'r'.repeat(60)}`).join('\r\n');
  return [
    'Return-Path: <>',
    `Delivered-To: bounces+c1.s${n}.sig@bounces.news.example.com`,
    'From: MAILER-DAEMON@relay.example.net',
    `Subject: Undelivered Mail Returned to Sender (${n})`,
    `Message-ID: <dsn-${n}-${randomBytes(4).toString('hex')}@relay.example.net>`,
    'Content-Type: text/plain',
    '',
    '550 5.1.1 <reader@example.org>: Recipient address rejected: User unknown',
    returned,
    '',
  ].join('\r\n');
}

async function fill(dovecot: TestDovecot, mailbox: string): Promise<void> {
  await dovecot.createMailbox(mailbox);
  await dovecot.appendAll(
    Array.from({ length: N }, (_, i) => dsn(i)),
    mailbox,
  );
}

async function time(dovecot: TestDovecot, mailbox: string, record: (mail: MailboxMessage) => Promise<unknown>): Promise<number> {
  let recorded = 0;
  let done = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const started = performance.now();
  const poller = startImapPoller({
    url: dovecot.url({ mailbox }),
    log: createLogger({ logLevel: 'warn' }, { name: 'bench' }),
    record: async (mail) => {
      await record(mail);
      if (++recorded === N) done();
    },
  });
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await poller.stop();
  return N / seconds;
}

const dovecot = await startTestDovecot();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const prefix = `bench:imap:${randomBytes(4).toString('hex')}`;
const queue = new Queue<ReturnedMail>(RETURNED_MAIL_QUEUE, { connection: redis, prefix });
try {
  out(`appending ${N} DSNs to two mailboxes of a private Dovecot ...`);
  await fill(dovecot, 'nothing');
  await fill(dovecot, 'queue');
  const imapOnly = await time(dovecot, 'nothing', async () => {});
  const withQueue = await time(dovecot, 'queue', (mail) => recordReturnedMail(queue, mail, new Date()));
  const jobs = await queue.getJobCountByTypes('waiting');
  out(`read, flagged, nothing stored:        ${imapOnly.toFixed(0)} messages/s`);
  out(`read, recorded in the queue, flagged: ${withQueue.toFixed(0)} messages/s (${jobs} jobs)`);
  if (jobs !== N) throw new Error(`expected ${N} jobs, got ${jobs}`);
} finally {
  await queue.close();
  await clearPrefix(redis, prefix);
  await redis.quit();
  await dovecot.close();
}
