import { describe, expect, it } from 'vitest';
import { isNewsletterError } from '../../src/errors.ts';
import { decodePostBytes } from '../../src/render/decode-post.ts';

const refusal = (bytes: Uint8Array) => {
  try {
    decodePostBytes(bytes, 'post.md');
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
};

describe('decodePostBytes', () => {
  it('keeps a U+FFFD the author wrote: it is valid UTF-8', () => {
    const text = 'Title: Replacement\n\nThe decoder shows \uFFFD for a bad byte.\n';
    expect(decodePostBytes(Buffer.from(text, 'utf8'), 'post.md')).toBe(text);
  });

  it('reads CJK, emoji and a BOM', () => {
    expect(decodePostBytes(Buffer.from('\uFEFF每周精选 🦀\n', 'utf8'), 'post.md')).toBe('每周精选 🦀\n');
  });

  it.each([
    ['a Latin-1 é on line 3', Buffer.from('---\ntitle: x\n---\nCafé\n', 'latin1'), 4],
    ['a lone continuation byte on line 1', Buffer.from([0x61, 0x80, 0x0a]), 1],
    ['an overlong encoding of "/" on line 2', Buffer.from([0x61, 0x0a, 0xc0, 0xaf]), 2],
    ['a surrogate encoded as UTF-8 on line 2', Buffer.from([0x0a, 0xed, 0xa0, 0x80]), 2],
    ['a multi-byte sequence cut off at the end', Buffer.concat([Buffer.from('a\nb\nc'), Buffer.from([0xe6, 0xaf])]), 3],
  ])('refuses %s, naming its line', (_name, bytes, line) => {
    const error = refusal(bytes);
    expect(isNewsletterError(error, 'POST_UNREADABLE')).toBe(true);
    if (isNewsletterError(error)) expect(error.location).toMatchObject({ file: 'post.md', line });
  });

  it('calls a file with NUL bytes binary, not badly encoded', () => {
    const error = refusal(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00]));
    expect(isNewsletterError(error, 'POST_UNREADABLE') && error.message).toMatch(/not a text file/);
  });
});
