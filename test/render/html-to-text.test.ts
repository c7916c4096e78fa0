import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../src/render/html-to-text.ts';

// Longer than a line (78) and than a table cell (40), with "undefined" early in it: where
// html-to-text 10 split words by default.
const URLS = [
  'https://doc.rust-lang.org/nomicon/what-unsafe-does.html#undefined-behavior-in-the-standard-library',
  'https://github.com/rust-lang/rust/issues?q=label%3AI-undefined-behaviour+is%3Aopen+sort%3Aupdated-desc',
  'https://example.org/undefined/undefined/undefined/a-path-that-goes-on-and-on-and-on-for-a-while',
  'https://example.org/docs/a-very-long-path-without-the-word/but-still-longer-than-a-line-of-text/x',
];

const wholeIn = (text: string, url: string) => text.split(/\s+/).some((word) => word.replace(/^[<[]|[>\]]$/g, '') === url);

describe('htmlToText never breaks a URL', () => {
  for (const wrap of [true, false]) {
    describe(wrap ? 'wrapped at 78' : 'unwrapped (CJK)', () => {
      it.each(URLS)('as a link target: %s', (url) => {
        const text = htmlToText(`<p>Read <a href="${url}">the page about it</a> before you start.</p>`, { wrap });
        expect(wholeIn(text, url)).toBe(true);
      });

      it.each(URLS)('as its own link text: %s', (url) => {
        const text = htmlToText(`<p>See <a href="${url}">${url}</a></p>`, { wrap });
        expect(wholeIn(text, url)).toBe(true);
      });

      it.each(URLS)('as an image: %s', (url) => {
        const text = htmlToText(`<p><img src="${url}" alt="a chart"></p>`, { wrap });
        expect(wholeIn(text, url)).toBe(true);
      });

      it.each(URLS)('in a table cell: %s', (url) => {
        const text = htmlToText(`<table><tr><th>What</th><th>Where</th></tr><tr><td>Docs</td><td><a href="${url}">${url}</a></td></tr></table>`, { wrap });
        expect(wholeIn(text, url)).toBe(true);
      });
    });
  }

  it('still wraps prose at 78 columns', () => {
    const text = htmlToText(`<p>${'undefined behaviour is undefined '.repeat(10)}</p>`, { wrap: true });
    expect(Math.max(...text.split('\n').map((line) => line.length))).toBeLessThanOrEqual(78);
    expect(
      text
        .split(/\s+/)
        .filter(Boolean)
        .every((word) => /^(undefined|behaviour|is)$/.test(word)),
    ).toBe(true);
  });
});
