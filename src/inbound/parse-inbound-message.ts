/**
 * Raw bytes of one inbound message -> InboundMessage, through mailparser. The only part of
 * src/inbound/ that is not pure (it awaits the parser); the rules are in classify-inbound-message.ts.
 *
 * It never throws. Inbound mail is written by strangers and by broken mail systems: truncated
 * MIME, binary junk, unknown charsets, megabytes of attachments. Whatever the parser managed to
 * read is kept and the rest is left empty, so the classifier sees less and says `none` rather than
 * the server dropping the message. Only the first MAX_INPUT_BYTES are read: everything a bounce
 * says about the failure (the notice, the delivery report, the returned headers) comes first, and
 * what follows is the returned message's body, which we do not need.
 */
import { simpleParser, type Attachment, type ParsedMail, type StructuredHeader } from 'mailparser';
import { parseDeliveryStatus, type DeliveryStatus } from './delivery-status.ts';
import { parseHeaderFields, type HeaderFields } from './header-fields.ts';
import type { InboundMessage } from './inbound-message.ts';
import { addressesIn } from './header-fields.ts';
import { findHeadersInText, originalMessageFrom } from './original-message.ts';

/** 2 MiB: a notice, its report and the returned headers fit many times over. */
export const MAX_INPUT_BYTES = 2 * 1024 * 1024;
/** The text the rules read; a longer one is cut, keeping the start where the notice is. */
export const MAX_TEXT_CHARS = 256 * 1024;
/** The largest report or header part read. */
const MAX_PART_CHARS = 256 * 1024;

const DELIVERY_STATUS_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const FEEDBACK_REPORT_TYPES = new Set(['message/feedback-report']);
// text/rfc822-header (no s) is a typo some feedback loops make.
const RETURNED_MESSAGE_TYPES = new Set([
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'text/rfc822-header',
  'message/rfc822-headers',
  'message/global-headers',
]);

export async function parseInboundMessage(raw: Uint8Array): Promise<InboundMessage> {
  return parse(raw, 0);
}

async function parse(raw: Uint8Array, depth: number): Promise<InboundMessage> {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const truncated = bytes.length > MAX_INPUT_BYTES;
  const input = truncated ? bytes.subarray(0, MAX_INPUT_BYTES) : bytes;
  const headers = parseHeaderFields(headerSection(input));
  let mail: ParsedMail | null = null;
  let problem: string | null = null;
  try {
    mail = await simpleParser(input, {
      keepDeliveryStatus: true,
      // A returned message/rfc822 stays an attachment: its text is the newsletter, not the notice.
      ignoreEmbedded: true,
      skipImageLinks: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      checksumAlgo: false,
      maxHtmlLengthToParse: MAX_TEXT_CHARS * 4,
    });
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  if (!mail) return fromRawOnly(input, headers, truncated, problem);
  try {
    return await fromMail(mail, input, headers, truncated, depth);
  } catch (error) {
    // The parser's output for broken input does not always match its types: read the raw bytes instead.
    return fromRawOnly(input, headers, truncated, error instanceof Error ? error.message : String(error));
  }
}

async function fromMail(mail: ParsedMail, input: Buffer, headers: HeaderFields, truncated: boolean, depth: number): Promise<InboundMessage> {
  const message = fromParsed(mail, input, headers, truncated);
  // A filter that wraps a bounce in its own notice (Trend Micro, a forward): read the wrapped report.
  const wrapped = depth === 0 && !message.deliveryStatus ? mail.attachments.find(isWrappedReport) : undefined;
  if (!wrapped) return message;
  const inner = await parse(Buffer.from(wrapped.content), depth + 1);
  if (!inner.deliveryStatus) return message;
  return { ...message, text: normalise(`${message.text}\n${inner.text}`), deliveryStatus: inner.deliveryStatus, original: inner.original ?? message.original };
}

function isWrappedReport(part: Attachment): boolean {
  if (!['message/rfc822', 'message/global'].includes(String(part.contentType ?? '').toLowerCase())) return false;
  const type = parseHeaderFields(partText(part)).get('content-type')?.[0] ?? '';
  return /multipart\/report/i.test(type) && /delivery-status/i.test(type);
}

function fromParsed(mail: ParsedMail, input: Buffer, headers: HeaderFields, truncated: boolean): InboundMessage {
  const contentType = mail.headers.get('content-type') as StructuredHeader | undefined;
  const texts = [mail.text ?? ''];
  let deliveryStatus: DeliveryStatus | null = null;
  let feedbackReport: HeaderFields | null = null;
  let originalFields: HeaderFields | null = null;
  for (const part of mail.attachments) {
    const type = String(part.contentType ?? '').toLowerCase();
    if (DELIVERY_STATUS_TYPES.has(type)) {
      const status = parseDeliveryStatus(partText(part));
      deliveryStatus = deliveryStatus
        ? { reportingMta: deliveryStatus.reportingMta ?? status.reportingMta, recipients: [...deliveryStatus.recipients, ...status.recipients] }
        : status;
    } else if (FEEDBACK_REPORT_TYPES.has(type)) {
      feedbackReport ??= parseHeaderFields(partText(part), { stopAtBlankLine: false });
    } else if (RETURNED_MESSAGE_TYPES.has(type)) {
      originalFields ??= parseHeaderFields(partText(part));
    } else if (type === 'text/plain') {
      // Some mail systems attach the notice itself as a text file.
      texts.push(partText(part));
    }
  }
  let text = texts.join('\n');
  // A multipart whose boundaries do not match leaves everything in the preamble, which the
  // parser drops: then the body as written is the best text there is.
  if (text.trim() === '' && !deliveryStatus && !feedbackReport) text = rawBody(input);
  text = normalise(text);
  return {
    headers,
    subject: mail.subject ?? '',
    from: mail.from?.value[0]?.address?.toLowerCase() || null,
    contentType: contentType?.value?.toLowerCase() || 'text/plain',
    reportType: contentType?.params?.['report-type']?.toLowerCase() ?? null,
    ...fromText(text, { deliveryStatus, feedbackReport, originalFields }),
    truncated,
    problem: null,
  };
}

/** When the MIME parser gave up: the top-level headers and the body as text, read by the same rules. */
function fromRawOnly(input: Buffer, headers: HeaderFields, truncated: boolean, problem: string | null): InboundMessage {
  const text = normalise(rawBody(input));
  const contentType = headers.get('content-type')?.[0] ?? '';
  return {
    headers,
    subject: headers.get('subject')?.[0] ?? '',
    from: addressesIn(headers.get('from')?.[0])[0]?.toLowerCase() ?? null,
    contentType: /^\s*([^;\s]+)/.exec(contentType)?.[1]?.toLowerCase() ?? 'text/plain',
    reportType: /report-type\s*=\s*"?([\w-]+)/i.exec(contentType)?.[1]?.toLowerCase() ?? null,
    ...fromText(text, { deliveryStatus: null, feedbackReport: null, originalFields: null }),
    truncated,
    problem,
  };
}

/**
 * Fills in from the text what the MIME parts did not give: many mail systems write the delivery
 * report's fields, a feedback report, or the returned headers into the text itself.
 */
function fromText(
  text: string,
  found: { deliveryStatus: DeliveryStatus | null; feedbackReport: HeaderFields | null; originalFields: HeaderFields | null },
): Pick<InboundMessage, 'text' | 'deliveryStatus' | 'feedbackReport' | 'original'> {
  let { deliveryStatus, feedbackReport, originalFields } = found;
  if (!deliveryStatus && /^[ \t>]*(?:final|original)-recipient[ \t]*:/im.test(text)) {
    // Also when quoted with ">": a bounce forwarded by a person.
    const inText = parseDeliveryStatus(text.replace(/^>+[ \t]?/gm, ''));
    if (inText.recipients.length > 0) deliveryStatus = inText;
  }
  if (!feedbackReport && /^[ \t]*feedback-type[ \t]*:/im.test(text)) {
    const start = /^[ \t]*feedback-type[ \t]*:/im.exec(text)!.index;
    feedbackReport = parseHeaderFields(text.slice(start));
  }
  originalFields ??= findHeadersInText(text)?.fields ?? null;
  return { text, deliveryStatus, feedbackReport, original: originalFields ? originalMessageFrom(originalFields) : null };
}

/** The top-level header section as text, up to the first empty line (capped: a header section is never megabytes). */
function headerSection(input: Buffer): string {
  const head = input.subarray(0, 256 * 1024).toString('latin1');
  const end = /\r?\n\r?\n/.exec(head);
  return end ? head.slice(0, end.index) : head;
}

/** The bytes after the header section, as UTF-8 (invalid bytes become U+FFFD). */
function rawBody(input: Buffer): string {
  const start = Buffer.byteLength(headerSection(input), 'latin1');
  return input.subarray(Math.min(input.length, start)).toString('utf8', 0, MAX_TEXT_CHARS * 2);
}

/** One kind of line break, no NULs, at most MAX_TEXT_CHARS. */
function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\u0000/g, '')
    .slice(0, MAX_TEXT_CHARS);
}

function partText(part: Attachment): string {
  return Buffer.isBuffer(part.content) ? part.content.subarray(0, MAX_PART_CHARS).toString('utf8') : '';
}
