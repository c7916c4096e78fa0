/** Just enough MIME parsing for tests: headers (unfolded), and the decoded text/plain and text/html parts. */
import { decodeQuotedPrintable } from '../../src/delivery/mime-encoding.ts';

export interface ParsedMessage {
  headers: Map<string, string>;
  /** Raw header lines as sent (folding kept), for checks on the wire format. */
  headerBlock: string;
  text: string;
  html: string;
  /** Encoded body lines of both parts, for line-length checks. */
  encodedLines: string[];
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

export function parseMessage(raw: string): ParsedMessage {
  const split = raw.indexOf('\r\n\r\n');
  const headerBlock = raw.slice(0, split);
  const headers = parseHeaders(headerBlock);
  const boundary = /boundary="([^"]+)"/.exec(headers.get('content-type') ?? '')?.[1];
  if (!boundary) throw new Error('no multipart boundary');
  const parts = raw.slice(split + 4).split(`--${boundary}`).slice(1, -1);
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
