import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/delivery/classify-failure.ts';
import { askedWaitMs, recognizeThrottle } from '../../src/delivery/throttle-reply.ts';

const rcpt = (response: string) => ({ code: 'EENVELOPE', responseCode: Number(response.slice(0, 3)), response, command: 'RCPT TO' });

/** Replies as the providers send them (from their postmaster pages and bounce logs). */
const THROTTLES = [
  '421 4.7.28 [192.0.2.1 15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. https://support.google.com/mail/?p=UnsolicitedRateLimitError a1si123456qkb.12 - gsmtp',
  '421-4.7.28 [2001:db8::1] Our system has detected an unusual rate of 421-4.7.28 unsolicited mail originating from your IPv6 address. To protect our 421-4.7.28 users from spam, mail sent from your IP address has been temporarily 421 4.7.28 rate limited. - gsmtp',
  '450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. Please resend your message at a later point. If the user is able to receive mail at that time, your message will be delivered. https://support.google.com/mail/?p=ReceivingRate - gsmtp',
  '451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719) [BN8NAM12FT058.eop-nam12.prod.protection.outlook.com]',
  '451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [Name=Protocol Filter Agent]',
  '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
  '421 4.7.0 [TS01] Messages from 192.0.2.1 temporarily deferred due to user complaints - 4.16.55.1; see https://help.yahoo.com/kb/postmaster/SLN3434.html',
  "421 RP-001 (BAY004-MC1F12) Unfortunately, some messages from 192.0.2.1 weren't sent. Please try again. We have limits for how many messages can be sent per hour and per day.",
  '450 4.7.1 Too many messages from your IP, try again in 5 minutes',
  '452 4.2.1 Rate limit exceeded for sender domain, retry after 300 seconds',
  '421 4.7.0 mx.example.net Throttled: too many messages from your host. Slow down.',
  '450 4.7.1 Client host rejected: rate limit exceeded',
  '421 Too many messages in this session, please try again later',
  '451 4.7.1 Please try again later',
  '421 mwinf5c10 ME Trop de connexions, slow down. OFR004_104',
];

const NOT_THROTTLES = [
  '451 4.3.0 Temporary failure, try again later',
  '450 4.7.1 <r@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html',
  '452 4.2.2 The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp',
  '421 4.7.0 Too many connections',
  '451 4.2.1 Mailbox busy',
  '550 5.7.1 Our system has detected an unusual rate of unsolicited mail',
  '554 5.7.0 [TSS09] All messages from 192.0.2.1 will be permanently deferred',
  '450 4.1.8 <bounce@example.com>: Sender address rejected: Domain not found',
];

describe('recognizeThrottle', () => {
  it.each(THROTTLES)('recognises a receiving domain asking to slow down: %s', (reply) => {
    expect(recognizeThrottle(rcpt(reply))).toMatchObject({ reply: reply.replace(/\s+/g, ' ') });
  });

  it.each(NOT_THROTTLES)('leaves other replies alone: %s', (reply) => {
    expect(recognizeThrottle(rcpt(reply))).toBeUndefined();
  });

  it('counts only replies to a message: a 421 at connect or greeting is the relay closing its door', () => {
    const reply = '421 4.7.28 unusual rate of unsolicited mail';
    expect(recognizeThrottle({ responseCode: 421, response: reply, command: 'CONN' })).toBeUndefined();
    expect(recognizeThrottle({ responseCode: 421, response: reply, command: 'EHLO' })).toBeUndefined();
    expect(recognizeThrottle({ responseCode: 421, response: reply })).toBeUndefined();
    for (const command of ['MAIL FROM', 'RCPT TO', 'DATA']) expect(recognizeThrottle({ responseCode: 421, response: reply, command })).toBeDefined();
    // nodemailer reports a 421 to RCPT TO as the server closing the connection; the transport says the envelope had begun.
    const closing = { code: 'ECONNECTION', responseCode: 421, response: reply, command: 'CONN' };
    expect(recognizeThrottle(closing)).toBeUndefined();
    expect(recognizeThrottle({ ...closing, inTransaction: true })).toBeDefined();
    expect(classifyFailure({ ...closing, inTransaction: true }).relayFailure).toBe(false);
    expect(classifyFailure(closing).relayFailure).toBe(true);
  });

  it('takes the wait the reply asks for, when it names one', () => {
    expect(recognizeThrottle(rcpt('450 4.7.1 Too many messages from your IP, try again in 5 minutes'))?.waitMs).toBe(300_000);
    expect(recognizeThrottle(rcpt('452 4.2.1 Rate limit exceeded, retry after 300 seconds'))?.waitMs).toBe(300_000);
    expect(recognizeThrottle(rcpt(THROTTLES[0]!))?.waitMs).toBeUndefined();
    expect(askedWaitMs('throttled: wait 1 hour')).toBe(3_600_000);
    expect(askedWaitMs('please try again in 90 sec')).toBe(90_000);
    expect(askedWaitMs('try again later')).toBeUndefined();
  });
});

describe('classifyFailure and throttling', () => {
  it("a 421 throttle answering a recipient is its domain's pace, not the relay failing; a 421 at connect still is", () => {
    expect(classifyFailure(rcpt(THROTTLES[0]!))).toMatchObject({ outcome: 'deferred', relayFailure: false });
    expect(classifyFailure(rcpt('421 4.7.0 [TSS04] Messages temporarily deferred due to unexpected volume'))).toMatchObject({ relayFailure: false });
    expect(classifyFailure({ code: 'EPROTOCOL', response: '421 4.7.28 unusual rate of unsolicited mail', command: 'CONN' }).relayFailure).toBe(true);
    expect(classifyFailure(rcpt('421 4.7.0 Too many connections')).relayFailure).toBe(true);
  });
});
