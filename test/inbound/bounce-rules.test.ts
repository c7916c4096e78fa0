import { describe, expect, it } from 'vitest';
import { judgeFailure, type FailureReport } from '../../src/inbound/bounce-rules.ts';

/** A failed recipient of a standard report with this Status and Diagnostic-Code, nothing else. */
function dsn(status: string | null, reply: string | null, extra: Partial<FailureReport> = {}): FailureReport {
  return { action: 'failed', status, reply, notice: '', fromRecipientDomain: false, ...extra };
}

/** A recipient of a bounce written only for people: its section of the notice. */
function text(section: string, extra: Partial<FailureReport> = {}): FailureReport {
  return { action: null, status: null, reply: section, notice: section, fromRecipientDomain: false, ...extra };
}

describe('judgeFailure: rule 1, not a failure', () => {
  it.each(['delivered', 'relayed', 'expanded'])('Action: %s is no bounce', (action) => {
    expect(judgeFailure(dsn('2.0.0', 'smtp; 250 ok', { action })).kind).toBe('none');
  });

  it('Action: delayed is soft, delayed, whatever the status says: never hard', () => {
    expect(judgeFailure(dsn('5.1.1', 'smtp; 550 5.1.1 user unknown', { action: 'delayed' }))).toMatchObject({ kind: 'soft', reason: 'delayed' });
  });

  it('a text bounce that says it is only a warning is soft, delayed', () => {
    const warning = text('THIS IS A WARNING MESSAGE ONLY.\nDelivery to the following recipient has been delayed:\n  kim@example.org');
    expect(judgeFailure(warning)).toMatchObject({ kind: 'soft', reason: 'delayed' });
  });

  it("Exchange Online's directory rejection (5.4.1 Recipient address rejected: Access denied) is hard: no such recipient", () => {
    const reply =
      'smtp; 550 5.4.1 <kim@example.org>: Recipient address rejected: Access denied. AS(201806281) [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]';
    expect(judgeFailure(dsn('5.4.1', reply))).toMatchObject({ kind: 'hard', reason: 'user-unknown' });
    // Any other access denied stays a block, about the sender.
    expect(judgeFailure(dsn('5.7.1', 'smtp; 554 5.7.1 <kim@example.org>: Relay access denied'))).toMatchObject({ kind: 'soft', aboutSender: true });
  });
});

describe('judgeFailure: rule 2, temporary', () => {
  it('a 4.x.x status is soft even when the words say user unknown', () => {
    expect(judgeFailure(dsn('4.1.1', 'smtp; 450 4.1.1 <kim@example.org>: Recipient address rejected: User unknown'))).toMatchObject({ kind: 'soft' });
  });

  it('a 4xx reply without any status is soft', () => {
    expect(judgeFailure(text('<kim@example.org>: 421 too busy, closing connection')).kind).toBe('soft');
  });
});

describe('judgeFailure: rule 3, soft words and soft statuses win', () => {
  it.each([
    ['5.1.1 next to "disk space"', '5.1.1', 'smtp; 550 5.1.1 Not enough disk space for kim', 'mailbox-full'],
    ['5.2.2 mailbox full', '5.2.2', 'smtp; 552 5.2.2 Mailbox full', 'mailbox-full'],
    ['quota exceeded', '5.0.0', 'smtp; 552 Quota exceeded (mailbox for user is full)', 'mailbox-full'],
    ['5.2.1 disabled (even with "user unknown")', '5.2.1', 'smtp; 550 5.2.1 <kim@example.org>... User Unknown', 'mailbox-disabled'],
    ['account disabled', '5.0.0', 'smtp; 554 This account has been disabled or discontinued', 'mailbox-disabled'],
    ['5.3.4 too big', '5.3.4', 'smtp; 552 5.3.4 Message size exceeds fixed maximum message size', 'message-too-big'],
    ['5.4.7 expired', '5.4.7', 'smtp; 554 5.4.7 delivery time expired', 'expired'],
    ['retry timeout exceeded', null, 'retry timeout exceeded', 'expired'],
    ['routing loop', '5.4.6', 'smtp; 554 5.4.6 Too many hops', 'network'],
    ['a mailer error', '5.1.1', 'x-unix; procmail: Couldn\'t create "/var/spool/mail/kim"', 'system'],
  ])('%s is soft', (_case, status, reply, reason) => {
    expect(judgeFailure(dsn(status, reply))).toMatchObject({ kind: 'soft', reason, aboutSender: false });
  });

  it.each([
    ['a blocklist', '5.7.1', 'smtp; 554 5.7.1 Client host rejected: blocked using zen.spamhaus.org', 'blocked'],
    ['Spamhaus with a 5.1.0', '5.1.0', 'smtp; 550 5.1.0 MailFrom domain is listed in Spamhaus', 'blocked'],
    ['spam content', '5.7.1', 'smtp; 550 5.7.1 Message content rejected, UBE', 'spam'],
    ['DMARC', '5.7.26', 'smtp; 550 5.7.26 Unauthenticated email is not accepted due to domain DMARC policy', 'policy'],
    ['relaying', '5.7.1', 'smtp; 554 5.7.1 <kim@example.org>: Relay access denied', 'blocked'],
    ['a rate limit', '5.0.0', 'smtp; 550 Ip frequency limited', 'rate-limited'],
    ['any other 5.7.x', '5.7.0', 'smtp; 550 5.7.0 go away', 'policy'],
    ['the sender address (5.1.8)', '5.1.8', 'smtp; 501 5.1.8 Sender address rejected', 'policy'],
  ])('%s is soft and about the sender', (_case, status, reply, reason) => {
    expect(judgeFailure(dsn(status, reply))).toMatchObject({ kind: 'soft', reason, aboutSender: true });
  });

  it("an earlier attempt's temporary reply in a transcript is no soft word", () => {
    const section = '<kim@example.org>\n    (reason: 551 not our user)\n<<< 450 busy - please try later\n>>> RCPT To:<kim@example.org>\n<<< 551 not our user';
    expect(judgeFailure(dsn('5.1.6', 'SMTP; 551 not our user', { notice: section }))).toMatchObject({ kind: 'hard', reason: 'has-moved' });
  });
});

describe('judgeFailure: rule 4, hard statuses', () => {
  it.each([
    ['5.1.1', 'user-unknown'],
    ['5.1.0', 'user-unknown'],
    ['5.1.2', 'host-unknown'],
    ['5.1.10', 'host-unknown'],
    ['5.4.4', 'host-unknown'],
    ['5.1.6', 'has-moved'],
    ['5.1.3', 'bad-address'],
  ])('%s is hard (%s)', (status, reason) => {
    expect(judgeFailure(dsn(status, null))).toMatchObject({ kind: 'hard', reason, status });
  });

  it('takes the code from the reply when the Status is only 5.0.0', () => {
    expect(judgeFailure(dsn('5.0.0', 'smtp; 550 5.1.1 <kim@example.org>... User Unknown'))).toMatchObject({ kind: 'hard', status: '5.1.1' });
  });

  it('a 5.1.1 in a reply to DATA is still hard: the reporting system said so with the code', () => {
    expect(judgeFailure(text('550 5.1.1 <kim@example.org>: User unknown\n-------SMTP command\nDATA')).kind).toBe('hard');
  });
});

describe('judgeFailure: rule 5, hard words need to be about this address', () => {
  it('"user unknown" in reply to RCPT TO is hard', () => {
    expect(judgeFailure(text('<kim@example.org>: host mx said: 550 User not found (in reply to RCPT TO command)'))).toMatchObject({
      kind: 'hard',
      reason: 'user-unknown',
    });
  });

  it('the same words in reply to DATA are a filter: soft', () => {
    expect(judgeFailure(text('<kim@example.org>: host mx said: 550 Unknown user kim@example.org (in reply to end of DATA\n    command)'))).toMatchObject({
      kind: 'soft',
      reason: 'filtered',
    });
  });

  it('the same words after MAIL FROM or on connection are about the sender: soft', () => {
    expect(judgeFailure(text('SMTP error from remote mail server after MAIL FROM:<news@news.example.org>:\n550 user unknown'))).toMatchObject({
      kind: 'soft',
      aboutSender: true,
    });
  });

  it('a reply that echoes an empty address answered no RCPT: soft', () => {
    expect(judgeFailure(dsn('5.0.0', 'smtp; 550 : User unknown'))).toMatchObject({ kind: 'soft', reason: 'filtered' });
  });

  it('a standard report that failed this recipient with those words is hard', () => {
    expect(judgeFailure(dsn('5.0.0', 'smtp; 550 <kim@example.org>... No such user'))).toMatchObject({ kind: 'hard', reason: 'user-unknown' });
  });

  it("the recipient's own domain saying it has no such user is hard", () => {
    expect(judgeFailure(text('User Kim (kim@example.org) not listed in Domino Directory', { fromRecipientDomain: true })).kind).toBe('hard');
  });

  it('a domain the reporting system itself could not find is hard', () => {
    expect(judgeFailure(text('kim@nowhere.example ... unknown host'))).toMatchObject({ kind: 'hard', reason: 'host-unknown' });
  });

  it('a quoted remote reply without code or command is not sure: soft, with the reason it gave', () => {
    expect(judgeFailure(text('<kim@example.org>: 550 unknown user'))).toMatchObject({ kind: 'soft', reason: 'user-unknown' });
    expect(judgeFailure(text('kim@example.org [User unknown]'))).toMatchObject({ kind: 'soft', reason: 'user-unknown' });
  });
});

describe('judgeFailure: rule 6 and what it reports', () => {
  it('anything else that failed is soft', () => {
    expect(judgeFailure(dsn('5.0.0', 'smtp; 550 Requested action not taken'))).toMatchObject({ kind: 'soft', reason: 'other', aboutSender: false });
  });

  it('gives the reply line as the diagnostic, on one line', () => {
    const verdict = judgeFailure(
      text('Hi. This is the qmail-send program.\n<kim@example.org>:\n192.0.2.1 does not like recipient.\nRemote host said: 550 5.1.1 no mailbox\n'),
    );
    expect(verdict.diagnostic).toBe('Remote host said: 550 5.1.1 no mailbox');
  });
});
