/**
 * A post file's bytes -> text. Encoding errors can only be seen in the bytes: once decoded
 * leniently, an invalid byte and a U+FFFD the author really wrote (This Week in Rust quotes
 * one) look the same.
 */
import { NewsletterError } from '../errors.ts';

const strict = new TextDecoder('utf-8', { fatal: true });

/** Bytes after `start` that form one valid UTF-8 sequence, or 0 when they don't. */
function sequenceLength(bytes: Uint8Array, start: number): number {
  const lead = bytes[start]!;
  const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
  if (length === 0 || start + length > bytes.length) return 0;
  try {
    strict.decode(bytes.subarray(start, start + length));
    return length;
  } catch {
    return 0;
  }
}

/** Offset of the first byte that is not part of valid UTF-8. */
function firstInvalidByte(bytes: Uint8Array): number {
  for (let at = 0; at < bytes.length;) {
    const length = sequenceLength(bytes, at);
    if (length === 0) return at;
    at += length;
  }
  return bytes.length;
}

/** The file's text, or POST_UNREADABLE naming the line of the first byte that is not UTF-8. */
export function decodePostBytes(bytes: Uint8Array, file: string): string {
  // A binary file is also invalid UTF-8, but "not a text file" is what its owner needs to hear.
  if (bytes.includes(0)) {
    throw new NewsletterError('POST_UNREADABLE', 'not a text file (it contains NUL bytes): a post is Markdown saved as UTF-8', { file });
  }
  try {
    return strict.decode(bytes);
  } catch (cause) {
    const at = firstInvalidByte(bytes);
    let line = 1;
    let lineStart = 0;
    for (let index = 0; index < at; index++) {
      if (bytes[index] === 0x0a) {
        line++;
        lineStart = index + 1;
      }
    }
    const hex = bytes[at]!.toString(16).toUpperCase().padStart(2, '0');
    throw new NewsletterError('POST_UNREADABLE', `not valid UTF-8: save the post as UTF-8 (byte 0x${hex} at byte ${at - lineStart + 1} of the line)`, {
      file,
      line,
      cause,
    });
  }
}
