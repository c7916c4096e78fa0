/**
 * The preheader: the line an inbox shows after the subject. It is read at a glance, so it
 * is prose only: no URL, no image, no heading or list marker, no Markdown an author left
 * unparsed, cut between words (or between CJK characters) with an ellipsis.
 */
import { compile } from 'html-to-text';
import { decodeHTML } from 'entities';
import htmlTags from 'html-tags';

export const PREHEADER_MAX = 140;
/** Below this a sentence end is too early to stop at: the inbox has room for more. */
export const PREHEADER_MIN = 90;

const HEADINGS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, format: 'block' }));

/** The body as blocks of readable text, one a line: links as their words, no images, code blocks or tables. */
const readableText = compile({
  wordwrap: false,
  selectors: [
    ...HEADINGS,
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'pre', format: 'skip' },
    { selector: 'table', format: 'skip' },
    { selector: 'hr', format: 'skip' },
    { selector: 'blockquote', format: 'block' },
    { selector: 'ul', format: 'block' },
    { selector: 'ol', format: 'block' },
    { selector: 'li', format: 'block' },
  ],
});

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const KNOWN_TAG = new RegExp(`</?(?:${htmlTags.join('|')})\\b[^<>]*>`, 'gi');
const SENTENCE_END = /[.!?。！？]/;
const TRAILING_JOINERS = /[\s,;:、，；：(（\-–—·|｜]+$/u;

/** One block (a paragraph, a heading, a list item) as plain words. */
function cleanBlock(block: string): string {
  return (
    block
      .replace(KNOWN_TAG, ' ')
      // Markdown the parser left as text: images go, links keep their words.
      .replace(/!\[[^\]]*\]\([^)]*\)/g, ' ')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<?\b(?:https?:\/\/|www\.|mailto:)[^\s<>]*>?/gi, ' ')
      .replace(/\[([^\]]*)\]/g, '$1')
      .replace(/^\s*(?:#{1,6}\s+|(?:>\s*)+|[-*+•]\s+|\d+[.)、]\s*)/, '')
      .replace(/\*\*|__|~~|`+/g, '')
      .replace(/(^|[^\p{L}\p{N}])[*_]([^*_\n]+)[*_](?=[^\p{L}\p{N}]|$)/gu, '$1$2')
      .replace(/\(\s*\)|（\s*）|「\s*」|<\s*>/g, ' ')
      .replace(/\s+/g, ' ')
      .replace(/\s+([,.;:!?，。；：！？）)])/g, '$1')
      .replace(/([，。；：！？、）」』])\s+/gu, '$1')
      .trim()
      .replace(TRAILING_JOINERS, '')
  );
}

/** Blocks joined into one line: a block that ends without punctuation (a heading) is set off by a dot. */
function joinBlocks(blocks: string[]): string {
  let line = '';
  for (const block of blocks.map(cleanBlock).filter((b) => /[\p{L}\p{N}]/u.test(b))) {
    if (!line) line = block;
    else if (/[.!?。！？…~～]$/u.test(line)) line += ` ${block}`;
    else line += ` · ${block}`;
  }
  return line;
}

/** Within `max` characters, ending at a sentence end or between words with an ellipsis. */
export function cutPreview(text: string, max = PREHEADER_MAX, min = PREHEADER_MIN): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  // A full stop ends a sentence before a space; a CJK one (。！？) needs none after it.
  const followsEnd = (i: number) => chars[i + 1] === undefined || /\s/.test(chars[i + 1]!) || /[。！？]/.test(chars[i]!);
  for (let i = max - 1; i >= min - 1; i--) {
    if (SENTENCE_END.test(chars[i]!) && followsEnd(i)) return chars.slice(0, i + 1).join('');
  }
  // Room for the ellipsis; a boundary is a space, or either side being a CJK character.
  for (let i = max - 1; i > max / 3; i--) {
    const boundary = /\s/.test(chars[i]!) || CJK.test(chars[i]!) || CJK.test(chars[i - 1]!);
    if (!boundary) continue;
    const kept = chars.slice(0, i).join('').replace(TRAILING_JOINERS, '');
    if (kept && [...kept].length <= max - 1) return `${kept}…`;
  }
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** The preheader from a description the author wrote (it may hold entities or Markdown). */
export function preheaderFromDescription(description: string): string {
  // Its lines are wrapped prose (a YAML `|` or `>` block), not blocks to set apart.
  return cutPreview(joinBlocks([decodeHTML(description).replace(/\s+/g, ' ')]));
}

/** The preheader from the body's HTML, when the post has no description. */
export function preheaderFromHtml(html: string): string {
  // A <br> continues the paragraph (CJK posts end each line with one); blocks are what split it.
  return cutPreview(joinBlocks(readableText(html.replace(/<br\s*\/?>/gi, ' ')).split(/\n+/)));
}
