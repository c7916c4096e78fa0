import { describe, expect, it } from 'vitest';
import { MessageBuffers, buildMessageTemplate, messageIdFor, personalise } from '../../src/delivery/message-template.ts';
import { isNewsletterError } from '../../src/errors.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';
import { decodeHeaderWords } from '../../src/delivery/mime-encoding.ts';
import { parseMessage } from '../helpers/parse-mime.ts';

const identity = {
  name: 'SOFA Weekly',
  fromName: 'SOFA 周报',
  fromAddress: 'weekly@sofastack.tech',
  replyTo: 'reply@sofastack.tech',
  listId: 'weekly.sofastack.tech',
};

const template = buildMessageTemplate({
  issue: deliveryIssue,
  identity,
  campaignId: 'sofa-weekly-2019-11-01--weekly',
  date: new Date('2026-11-23T10:00:00Z'),
  viewUrl: 'https://www.sofastack.tech/issues/sofa-weekly-2019-11-01',
});

// Long, and with "=" and "?" that quoted-printable must encode: the worst case for a soft break.
const url = `https://www.sofastack.tech/unsubscribe/${'A1b2_-'.repeat(30)}?x=1&y=%3D`;

function messageFor(to: string, value = url): string {
  return personalise(template, {
    to,
    messageId: messageIdFor('sofa-weekly-2019-11-01--weekly', 'sub123', identity.fromAddress),
    listUnsubscribe: `<${value}>, <mailto:reply@sofastack.tech?subject=unsubscribe-tok>`,
    unsubscribeUrl: value,
  }).toString('utf8');
}

describe('message template', () => {
  it('puts the recipient, Message-ID and List-Unsubscribe into the headers, List-Unsubscribe on one line', () => {
    const parsed = parseMessage(messageFor('reader@example.org'));
    expect(parsed.headers.get('to')).toBe('reader@example.org');
    expect(parsed.headers.get('message-id')).toBe('<sofa-weekly-2019-11-01--weekly.sub123@sofastack.tech>');
    expect(parsed.headerBlock).toContain(`\r\nList-Unsubscribe: <${url}>, <mailto:reply@sofastack.tech?subject=unsubscribe-tok>\r\n`);
    expect(parsed.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(parsed.headers.get('list-id')).toBe('SOFA Weekly <weekly.sofastack.tech>');
    expect(parsed.headers.get('content-type')).toMatch(/^multipart\/alternative; boundary=/);
    expect(decodeHeaderWords(parsed.headers.get('subject')!)).toBe(deliveryIssue.subject);
    expect(decodeHeaderWords(parsed.headers.get('from')!)).toBe('SOFA 周报 <weekly@sofastack.tech>');
  });

  it('keeps a long unsubscribe URL whole through quoted-printable in both parts, with no line over 76', () => {
    const parsed = parseMessage(messageFor('reader@example.org'));
    expect(parsed.text).toContain(`Unsubscribe: ${url}\n`);
    expect(parsed.html).toContain(`<a href="${url}" style="color:#555555">退订 unsubscribe</a>`);
    expect(parsed.html).toContain('<a href="https://www.sofastack.tech/issues/sofa-weekly-2019-11-01">view</a>');
    expect(parsed.text).toContain('蚂蚁金服自主研发的金融级分布式架构');
    expect(parsed.html).toContain('end = of issue');
    expect(parsed.html + parsed.text).not.toContain('__NL_');
    for (const line of parsed.encodedLines) expect(line.length).toBeLessThanOrEqual(76);
  });

  it('decodes to exactly the rendered issue, with only the placeholders filled', () => {
    const parsed = parseMessage(messageFor('reader@example.org', 'https://x.test/u/t'));
    const expected = deliveryIssue.text
      .split('__NL_UNSUBSCRIBE_URL__')
      .join('https://x.test/u/t')
      .split('__NL_VIEW_URL__')
      .join('https://www.sofastack.tech/issues/sofa-weekly-2019-11-01');
    expect(parsed.text).toBe(expected);
  });

  it('differs between two recipients only in the personal values', () => {
    const a = messageFor('a@example.org');
    const b = messageFor('b@example.org');
    expect(a.replace('a@example.org', 'b@example.org')).toBe(b);
  });

  it('refuses a line break in a substituted header value', () => {
    let error: unknown;
    try {
      messageFor('x@example.org\r\nBcc: victim@example.org');
    } catch (e) {
      error = e;
    }
    expect(isNewsletterError(error, 'HEADER_VALUE_INVALID')).toBe(true);
  });

  it('marks a test send in the subject and a header', () => {
    const test = buildMessageTemplate({ issue: deliveryIssue, identity, campaignId: 'c', date: new Date(0), viewUrl: 'https://v', test: true });
    const parsed = parseMessage(
      personalise(test, { to: 't@example.org', messageId: 'm@x', listUnsubscribe: '<https://u>', unsubscribeUrl: 'https://u' }).toString(),
    );
    expect(decodeHeaderWords(parsed.headers.get('subject')!)).toBe(`[TEST] ${deliveryIssue.subject}`);
    expect(parsed.headers.get('x-newsletter-test')).toBe('yes');
  });

  it('gives the same Message-ID for the same campaign and subscriber, and a safe one for odd ids', () => {
    expect(messageIdFor('c1', 's1', 'a@b.example')).toBe(messageIdFor('c1', 's1', 'a@b.example'));
    expect(messageIdFor('c1', 's1', 'a@b.example')).not.toBe(messageIdFor('c1', 's2', 'a@b.example'));
    expect(messageIdFor('c1', 'we<ird> id', 'a@b.example')).toMatch(/^[A-Za-z0-9_-]+@b\.example$/);
  });
});

describe('reused message buffers', () => {
  it('writes a message into a buffer given back, byte for byte what a fresh one holds, and never into a small one', () => {
    const values = (to: string) => ({ to, messageId: 'm@x', listUnsubscribe: '<https://u/1>', unsubscribeUrl: 'https://u/1' });
    const buffers = new MessageBuffers(2);
    const first = personalise(template, values('long.address.one@example.org'), buffers.take());
    const firstCopy = Buffer.from(first);
    buffers.give(first);
    const reused = buffers.take()!;
    expect(reused.buffer).toBe(first.buffer);
    // A shorter message in the same memory: exactly its own bytes, nothing of the longer one after them.
    const second = personalise(template, values('b@example.org'), reused);
    expect(second.buffer).toBe(first.buffer);
    expect(second.equals(personalise(template, values('b@example.org')))).toBe(true);
    expect(firstCopy.equals(second)).toBe(false);
    expect(buffers.take()).toBeUndefined();
    // Too small: a fresh buffer; the small one is left alone.
    const small = Buffer.alloc(10, 1);
    const third = personalise(template, values('c@example.org'), small);
    expect(third.buffer).not.toBe(small.buffer);
    expect(small.equals(Buffer.alloc(10, 1))).toBe(true);
    // Kept up to the limit only.
    for (let i = 0; i < 3; i++) buffers.give(personalise(template, values(`r${i}@example.org`)));
    expect([buffers.take(), buffers.take(), buffers.take()].filter(Boolean)).toHaveLength(2);
  });
});

describe('quoted-printable lines', () => {
  it('never start with a dot, so the SMTP client need not dot-stuff (and copy) the message', async () => {
    const { encodeQuotedPrintableSegments, decodeQuotedPrintable } = await import('../../src/delivery/mime-encoding.ts');
    const text = `.starts with a dot\n${'a'.repeat(75)}.${'b'.repeat(10)}\n.`;
    const encoded = encodeQuotedPrintableSegments(text, []).pieces.join('');
    for (const line of encoded.split('\r\n')) expect(line.startsWith('.')).toBe(false);
    expect(decodeQuotedPrintable(encoded)).toBe(text);
  });
});
