import { PassThrough } from 'node:stream';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isNewsletterError, type NewsletterError } from '../../src/errors.ts';
import {
  PROCESSED_KEYWORD,
  startImapPoller,
  TOO_LARGE_KEYWORD,
  type ImapPoller,
  type ImapPollerOptions,
  type MailboxMessage,
} from '../../src/inbound/imap-poller.ts';
import { recordReturnedMail, RETURNED_MAIL_QUEUE, returnedMailJobId, type ReturnedMail } from '../../src/inbound/returned-mail-queue.ts';
import { createLogger } from '../../src/logger.ts';
import { startTestDovecot, type TestDovecot } from '../helpers/dovecot.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';

/** A returned message as a relay's mailbox would hold it: the bounce's empty return path, our VERP address as the recipient. */
function bounce(n: number, extra = ''): string {
  return [
    'Return-Path: <>',
    `Delivered-To: bounces+c1.s${n}.sig@bounces.news.example.com`,
    'From: MAILER-DAEMON@relay.example.net',
    'To: bounces+c1.s' + n + '.sig@bounces.news.example.com',
    `Subject: Undelivered Mail Returned to Sender (${n})`,
    `Message-ID: <dsn-${n}@relay.example.net>`,
    'Content-Type: text/plain',
    '',
    `This is the mail system at host relay.example.net: message ${n} could not be delivered.${extra}`,
    '',
  ].join('\r\n');
}

/** What the poller recorded, in order, with a wait for "at least this many" that needs no sleep. */
function collector(behaviour?: (mail: MailboxMessage, attempt: number) => Promise<void>) {
  const mails: MailboxMessage[] = [];
  const waiters = new Set<() => void>();
  let attempts = 0;
  return {
    mails,
    record: async (mail: MailboxMessage) => {
      attempts++;
      await behaviour?.(mail, attempts);
      mails.push(mail);
      for (const wake of [...waiters]) wake();
    },
    subjects: () => mails.map((mail) => /^Subject: (.*)$/m.exec(mail.raw.toString())?.[1]),
    waitFor(count: number, timeoutMs = 10_000): Promise<void> {
      if (mails.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (mails.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} recorded messages, got ${mails.length}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  };
}

function capturedLog() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const log = createLogger({ logLevel: 'debug' }, { name: 'inbound', stream });
  return {
    log,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const FAST_RECONNECT = { minMs: 50, maxMs: 500 };

let dovecot: TestDovecot;
let mailboxCount = 0;
const pollers: ImapPoller[] = [];

/** Each test reads a mailbox of its own on the shared server. */
async function freshMailbox(): Promise<string> {
  const name = `case${++mailboxCount}`;
  await dovecot.createMailbox(name);
  return name;
}

function poller(options: Omit<ImapPollerOptions, 'log'> & { log?: ImapPollerOptions['log'] }): ImapPoller {
  const started = startImapPoller({ log: capturedLog().log, reconnect: FAST_RECONNECT, ...options });
  pollers.push(started);
  return started;
}

beforeAll(async () => {
  dovecot = await startTestDovecot();
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await dovecot?.close();
});

describe('startImapPoller against a real IMAP server (Dovecot)', () => {
  it('records every message in the mailbox once, with its envelope from the header, then flags it \\Seen and $NewsletterProcessed', async () => {
    const mailbox = await freshMailbox();
    for (const n of [1, 2, 3]) await dovecot.append(bounce(n), mailbox);
    const collected = collector();

    await poller({ url: dovecot.url({ mailbox }), record: collected.record }).ready;

    expect(collected.subjects()).toEqual([1, 2, 3].map((n) => `Undelivered Mail Returned to Sender (${n})`));
    expect(collected.mails[0]).toEqual({ raw: Buffer.from(bounce(1)), mailFrom: '', rcptTo: ['bounces+c1.s1.sig@bounces.news.example.com'], via: 'imap' });
    const flags = await dovecot.flags(mailbox);
    expect([...flags.values()].map((set) => [...set].filter((flag) => flag !== '\\Recent').sort())).toEqual(
      [1, 2, 3].map(() => [PROCESSED_KEYWORD, '\\Seen'].sort()),
    );
  });

  it('reads a processed message neither on the next search nor after reconnecting', async () => {
    const mailbox = await freshMailbox();
    await dovecot.append(bounce(1), mailbox);
    const collected = collector();
    const first = poller({ url: dovecot.url({ mailbox }), record: collected.record, intervalMs: 100 });
    await first.ready;
    // Searches every 100 ms go by; the next message is recorded on one of them, after any repeat of the first would have been.
    await dovecot.append(bounce(2), mailbox);
    await collected.waitFor(2);
    await first.stop();

    const second = poller({ url: dovecot.url({ mailbox }), record: collected.record });
    await second.ready;

    expect(collected.subjects()).toEqual(['Undelivered Mail Returned to Sender (1)', 'Undelivered Mail Returned to Sender (2)']);
  });

  it('does not skip a message that a person read in a mail client: our keyword, not \\Seen, says what is done', async () => {
    const mailbox = await freshMailbox();
    await dovecot.append(bounce(1), mailbox);
    const flags = await dovecot.flags(mailbox);
    expect(flags.size).toBe(1);
    await dovecot.markSeen(mailbox);
    const collected = collector();

    await poller({ url: dovecot.url({ mailbox }), record: collected.record }).ready;

    expect(collected.mails).toHaveLength(1);
  });

  it('picks up a message that arrives while it waits, from the IDLE notice, long before the next search', async () => {
    const mailbox = await freshMailbox();
    const collected = collector();
    const { log, lines } = capturedLog();
    const started = poller({ url: dovecot.url({ mailbox }), record: collected.record, log, intervalMs: 10 * 60_000 });
    await started.ready;
    expect(lines()).toContainEqual(expect.objectContaining({ idle: true, msg: expect.stringContaining('reading the bounce mailbox') }));

    const appended = Date.now();
    await dovecot.append(bounce(1), mailbox);
    await collected.waitFor(1, 5_000);

    expect(Date.now() - appended).toBeLessThan(5_000);
    expect(collected.mails).toHaveLength(1);
  });

  it('flags a message over maxBytes $NewsletterTooLarge without recording it, and reads the rest', async () => {
    const mailbox = await freshMailbox();
    await dovecot.append(bounce(1, 'x'.repeat(5_000)), mailbox);
    await dovecot.append(bounce(2), mailbox);
    const collected = collector();
    const { log, lines } = capturedLog();

    await poller({ url: dovecot.url({ mailbox }), record: collected.record, log, maxBytes: 2_000 }).ready;

    expect(collected.subjects()).toEqual(['Undelivered Mail Returned to Sender (2)']);
    const [big] = [...(await dovecot.flags(mailbox)).values()];
    expect([...big!]).toEqual(expect.arrayContaining(['\\Seen', PROCESSED_KEYWORD, TOO_LARGE_KEYWORD]));
    expect(lines()).toContainEqual(expect.objectContaining({ level: 40, maxBytes: 2_000 }));
  });

  it('flags a message only once record resolved: the one whose record failed stays unflagged and is read on the next connection, those before it are not', async () => {
    const mailbox = await freshMailbox();
    await dovecot.appendAll([bounce(1), bounce(2), bounce(3)], mailbox);
    let flagsWhenRetried: Set<string>[] = [];
    const collected = collector(async (_mail, attempt) => {
      if (attempt === 2) throw new Error('Redis is down');
      if (attempt === 3) flagsWhenRetried = [...(await dovecot.flags(mailbox)).values()];
    });
    const { log, lines } = capturedLog();

    poller({ url: dovecot.url({ mailbox }), record: collected.record, log });
    await collected.waitFor(3);

    expect(collected.subjects()).toEqual([1, 2, 3].map((n) => `Undelivered Mail Returned to Sender (${n})`));
    expect(flagsWhenRetried.map((flags) => flags.has(PROCESSED_KEYWORD))).toEqual([true, false, false]);
    await expect.poll(async () => [...(await dovecot.flags(mailbox)).values()].every((flags) => flags.has(PROCESSED_KEYWORD))).toBe(true);
    expect(lines()).toContainEqual(
      expect.objectContaining({ level: 40, msg: expect.stringContaining('trying again'), err: expect.objectContaining({ message: 'Redis is down' }) }),
    );
  });

  it('refuses a wrong password with CONFIG_INVALID naming BOUNCE_IMAP_URL, and prints the password nowhere', async () => {
    const mailbox = await freshMailbox();
    const password = 'hunter2-wrong-password';
    const { log, text } = capturedLog();
    const started = poller({ url: dovecot.url({ mailbox, pass: password }), record: collector().record, log });

    const error = (await started.closed.then(
      () => undefined,
      (e: unknown) => e,
    )) as NewsletterError;

    expect(isNewsletterError(error, 'CONFIG_INVALID')).toBe(true);
    expect(error.location.field).toBe('BOUNCE_IMAP_URL');
    expect(error.toOneLine()).toMatch(
      /^BOUNCE_IMAP_URL: the IMAP server refused the login of "bounces" .*imap:\/\/bounces:\*\*\*@127\.0\.0\.1:\d+\/case\d+ \[CONFIG_INVALID\]$/,
    );
    await expect(started.ready).rejects.toBe(error);
    expect(text()).toContain('refused the login');
    expect(text()).not.toContain(password);
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(password);
  });

  it('gives up on a mailbox that does not exist, naming it', async () => {
    const started = poller({ url: dovecot.url({ mailbox: 'NoSuchBox' }), record: collector().record });
    await expect(started.closed).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      location: { field: 'BOUNCE_IMAP_URL' },
      message: expect.stringContaining('"NoSuchBox"'),
    });
  });

  it('keeps each message once in the real returned-mail queue, a message read again after a crash before its flag included', async () => {
    const mailbox = await freshMailbox();
    const prefix = uniquePrefix('imap');
    const { redis, cleanup } = await connectTestRedis(prefix);
    const queue = new Queue<ReturnedMail>(RETURNED_MAIL_QUEUE, { connection: redis, prefix });
    try {
      await dovecot.append(bounce(1), mailbox);
      await dovecot.append(bounce(2), mailbox);
      let calls = 0;
      // The first message is stored, then the process "dies" before its flag: the next connection reads it again.
      const record = async (mail: MailboxMessage) => {
        await recordReturnedMail(queue, mail, new Date('2026-03-02T10:00:00Z'));
        if (++calls === 1) throw new Error('killed between record and flag');
      };
      const collected = collector(record);

      poller({ url: dovecot.url({ mailbox }), record: collected.record });
      await collected.waitFor(2);

      expect(calls).toBe(3);
      const jobs = await queue.getJobs(['waiting']);
      expect(jobs).toHaveLength(2);
      const rcptTo = ['bounces+c1.s1.sig@bounces.news.example.com'];
      const job = await queue.getJob(returnedMailJobId(Buffer.from(bounce(1)), rcptTo));
      expect(job?.data).toEqual({ raw: Buffer.from(bounce(1)).toString('base64'), mailFrom: '', rcptTo, via: 'imap', receivedAt: '2026-03-02T10:00:00.000Z' });
    } finally {
      await queue.close();
      await cleanup();
    }
  });
});

describe('startImapPoller when the server comes and goes', () => {
  let own: TestDovecot | undefined;
  afterEach(async () => {
    await own?.close();
    own = undefined;
  });

  it('reconnects after the server was stopped and started again, and reads what arrived meanwhile, each once', async () => {
    own = await startTestDovecot();
    await own.append(bounce(1));
    const collected = collector();
    const { log, lines } = capturedLog();
    const started = poller({ url: own.url(), record: collected.record, log });
    await started.ready;

    await own.stop();
    await own.start();
    await own.append(bounce(2));
    await collected.waitFor(2);

    expect(collected.subjects()).toEqual(['Undelivered Mail Returned to Sender (1)', 'Undelivered Mail Returned to Sender (2)']);
    expect(lines().filter((line) => String(line.msg).startsWith('reading the bounce mailbox')).length).toBeGreaterThanOrEqual(2);
    await started.stop();
    await expect(started.closed).resolves.toBeUndefined();
  });

  it('searches every intervalMs on a server without IDLE', async () => {
    own = await startTestDovecot({ capability: 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ UIDPLUS' });
    const collected = collector();
    const { log, lines } = capturedLog();
    await poller({ url: own.url(), record: collected.record, log, intervalMs: 200 }).ready;
    expect(lines()).toContainEqual(expect.objectContaining({ idle: false }));

    await own.append(bounce(1));
    await collected.waitFor(1, 5_000);

    expect(collected.mails).toHaveLength(1);
  });
});
