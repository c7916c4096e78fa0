/**
 * Just enough MIME parsing for tests: headers (unfolded), and the decoded text/plain and text/html parts.
 * Stricter than the preview's reader (captured-message.ts), on purpose: CRLF only, one flat multipart,
 * and the encoded lines as sent, so tests see the wire format delivery writes.
 */
import { decodeQuotedPrintable } from '../../src/delivery/mime-encoding.ts';
import { parseHeaderLines } from '../../src/preview/captured-message.ts';

export interface ParsedMessage {
  headers: Map<string, string>;
  /** Raw header lines as sent (folding kept), for checks on the wire format. */
  headerBlock: string;
  text: string;
  html: string;
  /** Encoded body lines of both parts, for line-length checks. */
  encodedLines: string[];
}

/** Header names lower-cased, for `headers.get('subject')`. */
function parseHeaders(block: string): Map<string, string> {
  return new Map(parseHeaderLines(block).map(({ name, value }) => [name.toLowerCase(), value]));
}

export function parseMessage(raw: string): ParsedMessage {
  const split = raw.indexOf('\r\n\r\n');
  const headerBlock = raw.slice(0, split);
  const headers = parseHeaders(headerBlock);
  const boundary = /boundary="([^"]+)"/.exec(headers.get('content-type') ?? '')?.[1];
  if (!boundary) throw new Error('no multipart boundary');
  const parts = raw
    .slice(split + 4)
    .split(`--${boundary}`)
    .slice(1, -1);
  const out: ParsedMessage = { headers, headerBlock, text: '', html: '', encodedLines: [] };
  for (const part of parts) {
    const end = part.indexOf('\r\n\r\n');
    const partHeaders = parseHeaders(part.slice(2, end));
    const body = part.slice(end + 4).replace(/\r\n$/, '');
    out.encodedLines.push(...body.split('\r\n'));
    const decoded = decodeQuotedPrintable(body);
    if (partHeaders.get('content-type')?.startsWith('text/plain')) out.text = decoded;
    if (partHeaders.get('content-type')?.startsWith('text/html')) out.html = decoded;
  }
  return out;
}
