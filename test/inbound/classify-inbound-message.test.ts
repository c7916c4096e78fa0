import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyInboundMessage, type InboundVerdict } from '../../src/inbound/classify-inbound-message.ts';
import { parseOurMessageId } from '../../src/inbound/our-message-id.ts';
import { parseInboundMessage } from '../../src/inbound/parse-inbound-message.ts';
import { verifyToken } from '../../src/subscribers/tokens.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/bounces/${name}`, import.meta.url));
const classify = async (raw: Uint8Array | string): Promise<InboundVerdict> =>
  classifyInboundMessage(await parseInboundMessage(typeof raw === 'string' ? Buffer.from(raw) : raw));

const OUR_MESSAGE_ID = 'weekly-2024-05-03--default.AbCdEfGhIjKlMnOp@news.example.org';
const OUR_VERP = 'bounce-k3j2-AbCdEfGhIjKlMnOp-x9y8z7@bounces.news.example.org';

describe('bounces with a delivery status report (RFC 3464)', () => {
  it('5.1.1 is hard, and every candidate for matching is extracted from the returned headers', async () => {
    const verdict = await classify(fixture('dsn-hard-user-unknown.eml'));
    expect(verdict.kind).toBe('hard');
    expect(verdict.recipients).toEqual([
      {
        address: 'kim.reader@example.org',
        kind: 'hard',
        status: '5.1.1',
        reason: 'user-unknown',
        aboutSender: false,
        diagnostic: 'smtp; 550 5.1.1 <Kim.Reader@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
      },
    ]);
    expect(verdict.original).toMatchObject({
      messageId: OUR_MESSAGE_ID,
      listId: 'weekly.news.example.org',
      returnPath: OUR_VERP,
      to: ['Kim.Reader@example.org'],
      from: 'news@news.example.org',
      campaign: 'weekly-2024-05-03--default',
    });
    expect(parseOurMessageId(verdict.original?.messageId)).toEqual({ campaignId: 'weekly-2024-05-03--default', subscriberId: 'AbCdEfGhIjKlMnOp' });
    // The bounce itself went to the envelope sender: our VERP address.
    expect(verdict.deliveredTo).toEqual([OUR_VERP]);
  });

  it('mailbox full, 5.2.2 and 4.2.2, is soft for each recipient and never about the sender', async () => {
    const verdict = await classify(fixture('dsn-soft-mailbox-full.eml'));
    expect(verdict.kind).toBe('soft');
    expect(verdict.recipients.map(({ address, kind, status, reason, aboutSender }) => ({ address, kind, status, reason, aboutSender }))).toEqual([
      { address: 'lee@example.net', kind: 'soft', status: '5.2.2', reason: 'mailbox-full', aboutSender: false },
      { address: 'sam@example.com', kind: 'soft', status: '4.2.2', reason: 'mailbox-full', aboutSender: false },
    ]);
  });

  it('a delayed report is soft with the reason delayed: the message has not arrived yet', async () => {
    const verdict = await classify(fixture('dsn-delayed.eml'));
    expect(verdict.kind).toBe('soft');
    expect(verdict.recipients).toMatchObject([{ address: 'kim.reader@example.org', kind: 'soft', reason: 'delayed', status: '4.4.1' }]);
  });

  it('a blocklist rejection is soft and about the sender', async () => {
    const verdict = await classify(fixture('dsn-policy-block.eml'));
    expect(verdict.kind).toBe('soft');
    expect(verdict.recipients).toMatchObject([{ address: 'kim@mail.example.com', kind: 'soft', reason: 'blocked', aboutSender: true, status: '5.7.1' }]);
  });
});

describe('bounces written only for people', () => {
  it("qmail: recipient and reply read from the text, the returned copy's words ignored", async () => {
    const verdict = await classify(fixture('qmail-user-unknown.eml'));
    expect(verdict.kind).toBe('hard');
    expect(verdict.recipients).toMatchObject([{ address: 'jo@example.net', kind: 'hard', status: '5.1.1', reason: 'user-unknown' }]);
    expect(verdict.recipients[0]!.diagnostic).toContain('550 sorry, no mailbox here by that name');
    expect(verdict.original).toMatchObject({ messageId: OUR_MESSAGE_ID, listId: 'weekly.news.example.org', returnPath: OUR_VERP });
  });

  it('a notice in Latin-1 without a charset is read, and its recipient found', async () => {
    const verdict = await classify(fixture('non-utf8.eml'));
    expect(verdict.recipients).toMatchObject([{ address: 'mueller@example.de', kind: 'hard', status: '5.1.1' }]);
  });

  it('names the recipient from the returned copy when the notice names none', async () => {
    const raw = [
      'From: MAILER-DAEMON@relay.example.net',
      'Subject: Undelivered Mail Returned to Sender',
      '',
      "I'm sorry to have to inform you that your message could not be delivered.",
      '--- Delivery report unavailable ---',
      '',
      '--- Below this line is a copy of the message.',
      '',
      'Return-Path: <news@news.example.org>',
      'From: news@news.example.org',
      'To: kim@example.org',
      `Message-ID: <${OUR_MESSAGE_ID}>`,
      '',
      'Hello',
    ].join('\n');
    const verdict = await classify(raw);
    expect(verdict.recipients).toMatchObject([{ address: 'kim@example.org', kind: 'soft' }]);
  });
});

describe('complaints', () => {
  it('an ARF report is a complaint for Original-Rcpt-To, with our Message-ID from the returned headers', async () => {
    const verdict = await classify(fixture('arf-complaint.eml'));
    expect(verdict).toMatchObject({ kind: 'complaint', feedbackType: 'abuse', recipients: [{ address: 'kim.reader@example.com', kind: 'complaint' }] });
    expect(verdict.original?.messageId).toBe(OUR_MESSAGE_ID);
    expect(verdict.original?.campaign).toBe('weekly-2024-05-03--default');
  });

  it("Microsoft's feedback loop, without the ARF type, is recognised by the reader's address in the returned copy", async () => {
    const verdict = await classify(fixture('microsoft-complaint.eml'));
    expect(verdict).toMatchObject({ kind: 'complaint', recipients: [{ address: 'kim.reader@outlook.example.com', kind: 'complaint' }] });
    expect(verdict.original?.messageId).toBe(OUR_MESSAGE_ID);
  });

  it.each(['not-spam', 'auth-failure'])('Feedback-Type: %s is no complaint', async (type) => {
    const raw = readFileSync(new URL('../fixtures/bounces/arf-complaint.eml', import.meta.url), 'utf8').replace(
      'Feedback-Type: abuse',
      `Feedback-Type: ${type}`,
    );
    expect((await classify(raw)).kind).toBe('none');
  });
});

describe('replies', () => {
  it('an out-of-office reply is an auto-reply from its sender, even when its words sound like a bounce', async () => {
    const verdict = await classify(fixture('auto-reply.eml'));
    expect(verdict).toMatchObject({ kind: 'auto-reply', recipients: [{ address: 'kim.reader@example.org', kind: 'auto-reply' }] });
  });

  it.each([
    ['X-Autoreply: yes', 'Re: Weekly News'],
    ['Precedence: auto_reply', 'Re: Weekly News'],
    ['X-Mailer: any', 'Out of Office: Weekly News'],
  ])('%s / %s is an auto-reply', async (header, subject) => {
    const verdict = await classify(`From: kim@example.org\nTo: news@news.example.org\n${header}\nSubject: ${subject}\n\nBack on Monday.\n`);
    expect(verdict.kind).toBe('auto-reply');
  });

  it('a mail to the unsubscribe mailto is an unsubscribe, with the token that verifies', async () => {
    const verdict = await classify(fixture('mailto-unsubscribe.eml'));
    expect(verdict.kind).toBe('unsubscribe');
    expect(verdict.recipients).toMatchObject([{ address: 'kim.reader@example.org', kind: 'unsubscribe' }]);
    expect(verifyToken({ current: 'fixture-secret-not-for-production' }, verdict.unsubscribeToken!, 'unsubscribe')).toBe('AbCdEfGhIjKlMnOp');
  });

  it('a subject of just "unsubscribe" has no token: not an unsubscribe', async () => {
    const verdict = await classify('From: kim@example.org\nTo: unsubscribe@news.example.org\nSubject: unsubscribe\n\nplease\n');
    expect(verdict.kind).toBe('none');
  });

  it('a reader writing that something could not be delivered, naming an address, is no bounce', async () => {
    const verdict = await classify(
      "From: kim@example.org\nSubject: Re: Weekly News\n\nLast week's issue could not be delivered to my colleague:\n\n  bob@example.org\n\nCan you add him?\n",
    );
    expect(verdict).toMatchObject({ kind: 'none', recipients: [] });
  });

  it("a reader's own reply is none", async () => {
    const verdict = await classify(
      'From: kim@example.org\nTo: news@news.example.org\nSubject: Re: Weekly News\n\nThanks, the mailbox full of links was great. User unknown to me: Bob.\n',
    );
    expect(verdict).toMatchObject({ kind: 'none', recipients: [] });
  });
});

describe('our Message-ID', () => {
  it.each([
    [`<${OUR_MESSAGE_ID}>`, { campaignId: 'weekly-2024-05-03--default', subscriberId: 'AbCdEfGhIjKlMnOp' }],
    ['v1.2--news.letters.AbCdEfGhIjKlMnOp@news.example.org', { campaignId: 'v1.2--news.letters', subscriberId: 'AbCdEfGhIjKlMnOp' }],
    [
      `${Buffer.from('weekly--a..b.AbCdEfGhIjKlMnOp').toString('base64url')}@news.example.org`,
      { campaignId: 'weekly--a..b', subscriberId: 'AbCdEfGhIjKlMnOp' },
    ],
    ['20240503091502.4C2A31F7A@relay.example.net', null],
    ['not-an-id', null],
    [null, null],
  ])('%s -> %j', (messageId, expected) => {
    expect(parseOurMessageId(messageId)).toEqual(expected);
  });
});
