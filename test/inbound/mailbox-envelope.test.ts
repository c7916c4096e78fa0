import { describe, expect, it } from 'vitest';
import { mailboxEnvelope } from '../../src/inbound/mailbox-envelope.ts';

const message = (...header: string[]) => Buffer.from([...header, '', 'Body: not a header', 'Delivered-To: body@example.com', ''].join('\r\n'));

describe('mailboxEnvelope', () => {
  it("reads a bounce's empty return path and the return path it was sent to, from the delivering server's fields", () => {
    expect(
      mailboxEnvelope(
        message('Return-Path: <>', 'Delivered-To: bounces+c1.s2.sig@bounces.example.com', 'To: someone-else@example.org', 'Subject: Undelivered'),
      ),
    ).toEqual({ mailFrom: '', rcptTo: ['bounces+c1.s2.sig@bounces.example.com'] });
  });

  it('keeps the original recipient from X-Original-To (before a catch-all rewrote it) beside Delivered-To, each address once', () => {
    expect(
      mailboxEnvelope(
        message(
          'Return-Path: <MAILER-DAEMON@relay.example.net>',
          'X-Original-To: bounces+c1.s2.sig@bounces.example.com',
          'Delivered-To: catchall@example.com',
          'Delivered-To: CATCHALL@example.com',
        ),
      ),
    ).toEqual({ mailFrom: 'MAILER-DAEMON@relay.example.net', rcptTo: ['bounces+c1.s2.sig@bounces.example.com', 'catchall@example.com'] });
  });

  it('takes the topmost Return-Path, the one the final delivery wrote, and falls back to To and Cc without delivery fields', () => {
    expect(
      mailboxEnvelope(
        message('Return-Path: <a@example.net>', 'Return-Path: <b@example.net>', 'To: "News" <unsubscribe@bounces.example.com>', 'Cc: x@example.org'),
      ),
    ).toEqual({ mailFrom: 'a@example.net', rcptTo: ['unsubscribe@bounces.example.com', 'x@example.org'] });
  });

  it('reads folded fields, LF-only line ends, and a message with no header at all', () => {
    expect(mailboxEnvelope(Buffer.from('Delivered-To:\n  r@example.com\nSubject: x\n\nbody\n'))).toEqual({ mailFrom: '', rcptTo: ['r@example.com'] });
    expect(mailboxEnvelope(Buffer.from(''))).toEqual({ mailFrom: '', rcptTo: [] });
  });

  it('keeps at most 20 recipients from a flooded header, and reads the fields of a huge binary message without reading all of it', () => {
    const flood = Array.from({ length: 500 }, (_, i) => `Delivered-To: r${i}@example.com`);
    expect(mailboxEnvelope(message(...flood)).rcptTo).toHaveLength(20);
    const huge = Buffer.concat([Buffer.from('Delivered-To: r@example.com\r\n'), Buffer.alloc(20 * 1024 * 1024, 0xff)]);
    expect(mailboxEnvelope(huge)).toEqual({ mailFrom: '', rcptTo: ['r@example.com'] });
  });
});
