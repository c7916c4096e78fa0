/**
 * Reading captured .eml files for the preview's outbox: a message delivery builds (checked
 * against the tests' own MIME reader), one nodemailer builds (nested multiparts, base64,
 * an attachment), and the awkward ends of the format.
 */
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { describe, expect, it } from 'vitest';
import { buildMessageTemplate, messageIdFor, personalise } from '../../src/delivery/message-template.ts';
import { parseCapturedMessage, unsubscribeUrlOf } from '../../src/preview/captured-message.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';
import { parseMessage } from '../helpers/parse-mime.ts';

const identity = { name: 'SOFA Weekly', fromName: 'SOFA 周报', fromAddress: 'weekly@sofastack.tech', listId: 'weekly.sofastack.tech' };
const unsubscribeUrl = `https://news.example/unsubscribe/${'Ab1_-'.repeat(20)}.sig`;

function deliveredMessage(): string {
  const template = buildMessageTemplate({
    issue: deliveryIssue,
    identity,
    campaignId: 'c1',
    date: new Date('2026-11-23T10:00:00Z'),
    viewUrl: 'https://news.example/issues/x',
  });
  return personalise(template, {
    to: 'li.lei@example.com',
    messageId: messageIdFor('c1', 's1', identity.fromAddress),
    listUnsubscribe: `<${unsubscribeUrl}>, <mailto:weekly@sofastack.tech?subject=unsubscribe-tok>`,
    unsubscribeUrl,
  }).toString('utf8');
}

describe('parseCapturedMessage', () => {
  it('reads a message as delivery sends it exactly as the tests’ MIME reader does', () => {
    const raw = deliveredMessage();
    const message = parseCapturedMessage(raw);
    const reference = parseMessage(raw);
    expect(message.subject).toBe(deliveryIssue.subject);
    expect(message.to).toBe('li.lei@example.com');
    expect(message.from).toBe('SOFA 周报 <weekly@sofastack.tech>');
    expect(message.date).toBe('Mon, 23 Nov 2026 10:00:00 +0000');
    expect(message.text).toBe(reference.text);
    expect(message.html).toBe(reference.html);
    expect(message.html).toContain(`href="${unsubscribeUrl}"`);
    expect(message.headers.map((h) => h.name)).toContain('List-Unsubscribe-Post');
    expect(unsubscribeUrlOf(message)).toBe(unsubscribeUrl);
  });

  it('finds the text and HTML parts inside nested multiparts in base64, and skips attachments', async () => {
    const composer = new MailComposer({
      from: 'Zoë <zoe@example.org>',
      to: '李雷 <li.lei@example.com>',
      subject: 'Grüße aus 杭州',
      text: 'Hallo 杭州\nzweite Zeile',
      html: '<p>Hallo <b>杭州</b></p>',
      attachments: [{ filename: 'note.txt', content: 'an attachment, not the text part', contentType: 'text/plain' }],
      textEncoding: 'base64',
    });
    const raw = (await composer.compile().build()).toString('utf8');
    expect(raw).toMatch(/multipart\/mixed/);
    const message = parseCapturedMessage(raw);
    expect(message.subject).toBe('Grüße aus 杭州');
    expect(message.to).toBe('李雷 <li.lei@example.com>');
    expect(message.text).toBe('Hallo 杭州\nzweite Zeile');
    expect(message.html).toBe('<p>Hallo <b>杭州</b></p>');
    expect(unsubscribeUrlOf(message)).toBeUndefined();
  });

  it('reads a single-part message, LF line ends and Q-encoded words, and tolerates a message with no body', () => {
    const plain = parseCapturedMessage('Subject: =?utf-8?Q?caf=C3=A9_au_lait?=\nTo: a@example.org\n\nline one\nline two\n');
    expect(plain.subject).toBe('café au lait');
    expect(plain.text).toBe('line one\nline two\n');
    expect(plain.html).toBeUndefined();
    const empty = parseCapturedMessage('Subject: only headers\r\n');
    expect(empty.subject).toBe('only headers');
    expect(empty.text).toBe('');
    expect(empty.html).toBeUndefined();
  });
});
