import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyInboundMessage } from '../../src/inbound/classify-inbound-message.ts';
import { parseDeliveryStatus } from '../../src/inbound/delivery-status.ts';
import { MAX_INPUT_BYTES, parseInboundMessage } from '../../src/inbound/parse-inbound-message.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/bounces/${name}`, import.meta.url));

/** Deterministic bytes (xorshift), so a failure can be reproduced. */
function noise(length: number, seed = 0x9e3779b9): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

describe('parseInboundMessage: the structure', () => {
  it('reads the delivery report, the notice and the returned headers of a standard bounce', async () => {
    const message = await parseInboundMessage(fixture('dsn-hard-user-unknown.eml'));
    expect(message).toMatchObject({
      subject: 'Undelivered Mail Returned to Sender',
      from: 'mailer-daemon@relay.example.net',
      contentType: 'multipart/report',
      reportType: 'delivery-status',
      truncated: false,
      problem: null,
    });
    expect(message.deliveryStatus).toEqual({
      reportingMta: 'relay.example.net',
      recipients: [
        {
          finalRecipient: 'Kim.Reader@example.org',
          originalRecipient: 'Kim.Reader@example.org',
          action: 'failed',
          status: '5.1.1',
          diagnosticCode: 'smtp; 550 5.1.1 <Kim.Reader@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
          remoteMta: 'mx.example.org',
        },
      ],
    });
    expect(message.text).toContain('The mail system');
    expect(message.headers.get('auto-submitted')).toEqual(['auto-replied']);
    expect(message.original?.messageId).toBe('weekly-2024-05-03--default.AbCdEfGhIjKlMnOp@news.example.org');
  });

  it('reads the feedback report fields, every Original-Rcpt-To kept', async () => {
    const message = await parseInboundMessage(fixture('arf-complaint.eml'));
    expect(message.reportType).toBe('feedback-report');
    expect(message.feedbackReport?.get('feedback-type')).toEqual(['abuse']);
    expect(message.feedbackReport?.get('original-rcpt-to')).toEqual(['<Kim.Reader@example.com>']);
  });
});

describe('parseDeliveryStatus: reports as mail systems write them', () => {
  it('splits recipients that run together without blank lines, and reads fields with a space before the colon', () => {
    const report = parseDeliveryStatus(
      [
        'Reporting-MTA : dns;mx.example.net',
        'Action : failed',
        'Status : 5.0.0',
        'Final-Recipient : rfc822;a@example.org',
        'Final-Recipient: rfc822; b@example.org',
        'Action: delayed',
        'Status: 4.4.7 (expired)',
      ].join('\n'),
    );
    expect(report.reportingMta).toBe('mx.example.net');
    expect(report.recipients.map((r) => [r.finalRecipient, r.action, r.status])).toEqual([
      ['a@example.org', 'failed', '5.0.0'],
      ['b@example.org', 'delayed', '4.4.7'],
    ]);
  });

  it('keeps a recipient that has only Original-Recipient, and joins folded Diagnostic-Code lines', () => {
    const report = parseDeliveryStatus('Original-Recipient: rfc822;<kim@example.org>\nAction: failed\nDiagnostic-Code: smtp; 550 5.1.1\n    User unknown\n');
    expect(report.recipients).toEqual([
      {
        finalRecipient: null,
        originalRecipient: 'kim@example.org',
        action: 'failed',
        status: null,
        diagnosticCode: 'smtp; 550 5.1.1 User unknown',
        remoteMta: null,
      },
    ]);
  });
});

describe('parseInboundMessage never throws, and what it cannot read is none', () => {
  const cases: [string, () => Buffer][] = [
    ['an empty input', () => Buffer.alloc(0)],
    ['broken MIME: unclosed boundary, bad base64, unknown charset, bad quoted-printable', () => fixture('malformed.eml')],
    ['a bounce cut off inside its headers', () => fixture('dsn-hard-user-unknown.eml').subarray(0, 200)],
    ['binary noise', () => noise(64 * 1024)],
    [
      'headers followed by binary noise',
      () => Buffer.concat([Buffer.from('From: someone@example.org\nSubject: hi\nContent-Type: text/plain; charset=utf-8\n\n'), noise(32 * 1024, 7)]),
    ],
    [
      'bytes that are not UTF-8 in headers and body, no charset',
      () => Buffer.concat([Buffer.from('From: '), noise(40, 3), Buffer.from('@example.org\nSubject: '), noise(60, 5), Buffer.from('\n\n'), noise(4096, 11)]),
    ],
    ['a header line of a megabyte', () => Buffer.from(`Subject: ${'x'.repeat(1024 * 1024)}\n\nbody\n`)],
    [
      'ten thousand nested multiparts',
      () => Buffer.from(Array.from({ length: 10_000 }, (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n`).join('')),
    ],
  ];
  it.each(cases)('%s', async (_case, make) => {
    const message = await parseInboundMessage(make());
    expect(classifyInboundMessage(message)).toMatchObject({ kind: 'none', recipients: [] });
  });

  it('a bounce cut off in the middle still gives what it could read, without throwing', async () => {
    const raw = fixture('dsn-hard-user-unknown.eml');
    for (let end = 0; end <= raw.length; end += 97) {
      const verdict = classifyInboundMessage(await parseInboundMessage(raw.subarray(0, end)));
      expect(['hard', 'soft', 'none']).toContain(verdict.kind);
      for (const recipient of verdict.recipients) expect(recipient.address).toBe('kim.reader@example.org');
    }
  });

  it(`reads only the first ${MAX_INPUT_BYTES / 1024 / 1024} MiB of a huge message, and still finds the report at its start`, async () => {
    const attachment = `Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${'QUJDREVGR0g=\n'.repeat(500_000)}`;
    const huge = Buffer.from(
      fixture('dsn-hard-user-unknown.eml')
        .toString('utf8')
        .replace(/--4C2A31F7A\.1714727702\/relay\.example\.net--\s*$/, `--4C2A31F7A.1714727702/relay.example.net\n${attachment}`),
    );
    expect(huge.length).toBeGreaterThan(MAX_INPUT_BYTES * 2);
    const message = await parseInboundMessage(huge);
    expect(message.truncated).toBe(true);
    expect(classifyInboundMessage(message)).toMatchObject({ kind: 'hard', recipients: [{ address: 'kim.reader@example.org' }] });
  });

  it('a huge message of nothing is none', async () => {
    const message = await parseInboundMessage(Buffer.from(`From: a@example.org\nSubject: big\n\n${'all work and no play\n'.repeat(300_000)}`));
    expect(message.truncated).toBe(true);
    expect(classifyInboundMessage(message).kind).toBe('none');
  });
});

describe('hostile input costs time in proportion to its length', () => {
  // Before these were guarded, some of them took minutes: a pattern that backtracks over a long
  // run of spaces, "@" or letters is a denial of service on an inbound server.
  const run = 200_000;
  const bounce = (body: string, headers = '') =>
    `From: MAILER-DAEMON@relay.example.net\nSubject: Undelivered Mail Returned to Sender\n${headers}\nThe message could not be delivered.\n${body}\n`;
  const cases: [string, string][] = [
    ['a To header of one long word', bounce('', `To: ${'a'.repeat(run)}\n`)],
    ['a line of spaces after a label', bounce(`could not be delivered to ${' '.repeat(run)}x`)],
    ['an address followed by spaces', bounce(`kim@example.org${' '.repeat(run)}x`)],
    ['a line of dashes', bounce('-'.repeat(run))],
    ['a line of "@"', bounce('a@'.repeat(run / 2))],
    ['a line of colons', bounce('a:'.repeat(run / 2))],
    ['a long domain without a dot', bounce(`Recipient: x@${'b'.repeat(run)}`)],
    ['a delivery report with a huge recipient and status', bounce(`Final-Recipient: rfc822; ${'a'.repeat(run)}\nAction: failed\nStatus: 5.${'1'.repeat(run)}`)],
    ['many quota words', bounce(`kim@example.org: ${'quota '.repeat(run / 6)}`)],
  ];
  it.each(cases)('%s', async (_case, raw) => {
    const started = performance.now();
    classifyInboundMessage(await parseInboundMessage(Buffer.from(raw)));
    // Linear work is tens of milliseconds here; quadratic work was minutes.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
