/**
 * The few MIME encoders a newsletter needs, written so a message can be encoded ONCE
 * with holes in it and filled per recipient. PURE.
 *
 * Quoted-printable (RFC 2045 6.7) wraps lines at 76 characters with soft breaks; a
 * wrapper that does not know about placeholders can split one in two, and a plain
 * string replace then misses it. `encodeQuotedPrintableSegments` never does: every
 * placeholder starts on a fresh encoded line and is followed by a soft break, and the
 * value put there later is encoded and wrapped by `encodeQuotedPrintableValue`.
 */
import { NewsletterError } from '../errors.ts';

const MAX_QP_LINE = 76;

function qpByte(byte: number): string {
  return `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Tokens of one line: printable ASCII stays as is, everything else becomes =XX (whole UTF-8 sequences stay together). */
function qpTokens(line: string): string[] {
  const tokens: string[] = [];
  for (const char of line) {
    const code = char.codePointAt(0)!;
    if ((code >= 33 && code <= 126 && code !== 61) || code === 32 || code === 9) {
      tokens.push(char);
    } else {
      tokens.push([...Buffer.from(char, 'utf8')].map(qpByte).join(''));
    }
  }
  // Trailing whitespace would be stripped by transports: encode it.
  const last = tokens.length - 1;
  if (last >= 0 && (tokens[last] === ' ' || tokens[last] === '\t')) tokens[last] = qpByte(tokens[last]!.charCodeAt(0));
  return tokens;
}

/** Wraps tokens into lines of at most 76 characters, soft breaks included, never splitting a token. */
class QpWriter {
  out = '';
  column = 0;

  token(token: string): void {
    if (this.column + token.length > MAX_QP_LINE - 1) this.softBreak();
    // A line starting with "." would be dot-stuffed by the SMTP client, which then copies
    // the whole message; "=2E" reads the same and keeps the bytes as they are.
    if (this.column === 0 && token === '.') token = '=2E';
    this.out += token;
    this.column += token.length;
  }

  softBreak(): void {
    this.out += '=\r\n';
    this.column = 0;
  }

  hardBreak(): void {
    this.out += '\r\n';
    this.column = 0;
  }
}

/**
 * Encodes `text` as quoted-printable, leaving each placeholder as a hole. Returns the
 * encoded pieces between holes and, for each hole, which placeholder goes there:
 * `pieces.length === holes.length + 1`.
 */
export function encodeQuotedPrintableSegments(text: string, placeholders: readonly string[]): { pieces: string[]; holes: string[] } {
  const pieces: string[] = [];
  const holes: string[] = [];
  const writer = new QpWriter();
  const pattern = placeholders.length ? new RegExp(placeholders.map(escapeRegExp).join('|'), 'g') : undefined;
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((line, index) => {
    if (index > 0) writer.hardBreak();
    let cursor = 0;
    const matches = pattern ? [...line.matchAll(pattern)] : [];
    for (const match of matches) {
      for (const token of qpTokens(line.slice(cursor, match.index))) writer.token(token);
      // qpTokens encoded a space right before the hole, so the soft break below cannot strand it.
      if (writer.column > 0) writer.softBreak();
      pieces.push(writer.out);
      holes.push(match[0]);
      writer.out = '';
      // The filled value ends with its own soft break (see encodeQuotedPrintableValue).
      writer.column = 0;
      cursor = match.index + match[0].length;
    }
    for (const token of qpTokens(line.slice(cursor))) writer.token(token);
  });
  pieces.push(writer.out);
  return { pieces, holes };
}

/**
 * Encodes a value for a quoted-printable hole: starts at column 0, wraps at 76, and
 * ends with a soft break so the text after the hole continues on a fresh line.
 */
export function encodeQuotedPrintableValue(value: string): string {
  const writer = new QpWriter();
  for (const token of qpTokens(value.replace(/[\r\n]+/g, ' '))) writer.token(token);
  // Unlike a line end, a soft break may follow a space, but qpTokens already encoded a trailing one.
  writer.softBreak();
  return writer.out;
}

/** Decodes quoted-printable to a UTF-8 string (tests and tools use it to check what readers see). */
export function decodeQuotedPrintable(encoded: string): string {
  const bytes: number[] = [];
  const source = encoded.replace(/=\r?\n/g, '');
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(source.slice(i + 1, i + 3))) {
      bytes.push(parseInt(source.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8').replace(/\r\n/g, '\n');
}

const NEEDS_ENCODED_WORD = /[^\x20-\x7e]/;

/**
 * A header value as RFC 2047 encoded words when it has non-ASCII characters, folded
 * so no line passes 78 characters. ASCII values are returned as they are.
 */
export function encodeHeaderWords(value: string): string {
  if (!NEEDS_ENCODED_WORD.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  // 45 bytes of UTF-8 make 60 base64 characters: with =?UTF-8?B??= the word stays under 75.
  for (const char of value) {
    if (Buffer.byteLength(chunk + char, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/** RFC 2047 encoded words decoded (B and Q, UTF-8 as encodeHeaderWords writes them): for display and for checks. */
export function decodeHeaderWords(value: string): string {
  return value.replace(/\?=\s+=\?/g, '?==?').replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, kind: string, text: string) =>
    kind.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

/** A display name for From/List-Id: quoted when it has specials, encoded when it is not ASCII. */
export function encodeDisplayName(name: string): string {
  if (NEEDS_ENCODED_WORD.test(name)) return encodeHeaderWords(name);
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*$/.test(name)) return name;
  return `"${name.replace(/["\\]/g, '\\$&')}"`;
}

/** Refuses CR, LF and NUL in anything headed for a header: they would inject headers. */
export function assertHeaderValue(field: string, value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new NewsletterError('HEADER_VALUE_INVALID', `${field} must not contain a line break`, { field });
  }
  return value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
