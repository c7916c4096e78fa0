/**
 * Reads one captured message (.eml) for the preview's outbox: its headers, and its text
 * and HTML parts decoded. PURE. Enough MIME for what the newsletter and nodemailer
 * write: nested multiparts, quoted-printable, base64 and 7/8-bit parts, UTF-8 text and
 * RFC 2047 encoded words; anything else is shown as it is.
 */
import { decodeHeaderWords, decodeQuotedPrintable } from '../delivery/mime-encoding.ts';

export interface MessageHeader {
  name: string;
  /** Unfolded, encoded words left as sent. */
  value: string;
}

export interface CapturedMessage {
  headers: MessageHeader[];
  subject: string;
  from: string;
  to: string;
  date: string;
  text: string | undefined;
  html: string | undefined;
}

/** Header lines up to the first empty line, unfolded. */
export function parseHeaderLines(block: string): MessageHeader[] {
  return block
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .filter((line) => line.indexOf(':') > 0)
    .map((line) => ({ name: line.slice(0, line.indexOf(':')).trim(), value: line.slice(line.indexOf(':') + 1).trim() }));
}

/** The first header with this name (any case), encoded words decoded; '' when absent. */
export function headerText(headers: readonly MessageHeader[], name: string): string {
  const found = headers.find((h) => h.name.toLowerCase() === name.toLowerCase());
  return found ? decodeHeaderWords(found.value) : '';
}

function splitHead(entity: string): { headers: MessageHeader[]; body: string } {
  const match = /\r?\n\r?\n/.exec(entity);
  if (!match) return { headers: parseHeaderLines(entity), body: '' };
  return { headers: parseHeaderLines(entity.slice(0, match.index)), body: entity.slice(match.index + match[0].length) };
}

function decodeBody(body: string, encoding: string): string {
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8').replace(/\r\n/g, '\n');
  return body.replace(/\r\n/g, '\n');
}

function walk({ headers, body }: { headers: MessageHeader[]; body: string }, found: { text?: string; html?: string }, depth: number): void {
  const type = headerText(headers, 'content-type').toLowerCase() || 'text/plain';
  if (type.startsWith('multipart/')) {
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(headerText(headers, 'content-type'))?.slice(1).find(Boolean);
    if (!boundary || depth > 5) return;
    // Parts lie between delimiter lines; the preamble before the first and the epilogue after `--boundary--` are not parts.
    const closeAt = body.indexOf(`--${boundary}--`);
    const inner = closeAt >= 0 ? body.slice(0, closeAt) : body;
    const parts = inner.split(`--${boundary}`).slice(1);
    for (const part of parts) walk(splitHead(part.replace(/^[ \t]*\r?\n/, '').replace(/\r?\n$/, '')), found, depth + 1);
    return;
  }
  if (/^attachment/i.test(headerText(headers, 'content-disposition'))) return;
  const encoding = headerText(headers, 'content-transfer-encoding').toLowerCase();
  if (type.startsWith('text/plain') && found.text === undefined) found.text = decodeBody(body, encoding);
  if (type.startsWith('text/html') && found.html === undefined) found.html = decodeBody(body, encoding);
}

export function parseCapturedMessage(raw: string): CapturedMessage {
  const top = splitHead(raw);
  const { headers } = top;
  const found: { text?: string; html?: string } = {};
  walk(top, found, 0);
  return {
    headers,
    subject: headerText(headers, 'subject'),
    from: headerText(headers, 'from'),
    to: headerText(headers, 'to'),
    date: headerText(headers, 'date'),
    text: found.text,
    html: found.html,
  };
}

/** The https URL in a List-Unsubscribe header (`<https://…>, <mailto:…>`), if any. */
export function unsubscribeUrlOf(message: Pick<CapturedMessage, 'headers'>): string | undefined {
  return /<(https?:\/\/[^>]+)>/.exec(headerText(message.headers, 'list-unsubscribe'))?.[1];
}
