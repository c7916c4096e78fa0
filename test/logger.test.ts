import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskEmail, maskEmailsIn } from '../src/logger.ts';

function capture(level = 'info') {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const log = createLogger({ logLevel: level }, { name: 'test', stream });
  return {
    log,
    lines: () =>
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => text,
  };
}

describe('maskEmail', () => {
  it('keeps the first character and the domain', () => {
    expect(maskEmail('john.doe@example.com')).toBe('j***@example.com');
    expect(maskEmail('a@example.org')).toBe('a***@example.org');
    expect(maskEmail('not an address')).toBe('***');
  });

  it('masks every address in a text: SMTP replies, angle brackets, quotes, URLs with credentials', () => {
    expect(maskEmailsIn('550 5.1.1 <ann.lee@example.org>: Recipient address rejected')).toBe('550 5.1.1 <a***@example.org>: Recipient address rejected');
    expect(maskEmailsIn('"o\'brien@example.com" is not a subscriber; nor is ZED@Example.COM.')).toBe(
      '"o***@example.com" is not a subscriber; nor is Z***@Example.COM.',
    );
    expect(maskEmailsIn('smtp://user:hunter2secret@smtp.example.com:587')).toBe('smtp://user:h***@smtp.example.com:587');
    expect(maskEmailsIn('no address here')).toBe('no address here');
  });
});

describe('createLogger', () => {
  it('writes one JSON object a line with level, time, name and the fields given', () => {
    const { log, lines } = capture();
    log.child({ campaignId: 'c1', jobId: '7' }).info({ accepted: 3 }, 'batch finished');
    log.debug('not at info');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 30, name: 'test', campaignId: 'c1', jobId: '7', accepted: 3, msg: 'batch finished', time: expect.any(String) }),
    ]);
  });

  it('masks addresses in messages, string fields and errors', () => {
    const { log, text } = capture();
    log.info({ reply: '550 5.1.1 <reader@example.org>: User unknown' }, 'failed for %s', 'other@example.net');
    log.error({ err: new Error("Can't send mail - all recipients were rejected: 550 <third@example.com>") }, 'confirmation email failed');
    expect(text()).not.toMatch(/reader@|other@|third@/);
    expect(text()).toContain('r***@example.org');
    expect(text()).toContain('o***@example.net');
    expect(text()).toContain('t***@example.com');
  });

  it('censors fields that carry credentials', () => {
    const { log, text } = capture();
    const secret = 'a-very-secret-value-'.padEnd(40, 'x');
    log.info(
      { secret, token: secret, password: secret, smtp: { password: secret }, req: { headers: { authorization: `Bearer ${secret}` } }, adminToken: secret },
      'x',
    );
    expect(text()).not.toContain(secret);
    expect(text()).toContain('[redacted]');
  });

  it('writes nothing at LOG_LEVEL=silent', () => {
    const { log, text } = capture('silent');
    log.error('nothing');
    expect(text()).toBe('');
  });
});
