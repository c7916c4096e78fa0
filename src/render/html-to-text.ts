/**
 * The plain-text part, built for reading: headings marked, quotes prefixed with `>`,
 * lists numbered, links kept as URLs, images as their alt text.
 */
import { compile, type DomNode, type FormatCallback } from 'html-to-text';

/** An attribute of a tag, '' when absent. html-to-text types `attribs` as any; the parser gives strings. */
const attribute = (elem: DomNode, name: string): string => (elem.attribs as Partial<Record<string, string>> | undefined)?.[name] ?? '';

const heading =
  (level: number): FormatCallback =>
  (elem, walk, builder) => {
    builder.openBlock({ leadingLineBreaks: 2 });
    builder.addInline(`${'#'.repeat(level)} `);
    walk(elem.children, builder);
    builder.closeBlock({ trailingLineBreaks: 1 });
  };

const image: FormatCallback = (elem, _walk, builder) => {
  const alt = attribute(elem, 'alt').trim();
  const src = attribute(elem, 'src');
  // A data: URI is kilobytes of base64, never something to read.
  const shown = /^https?:/i.test(src) ? ` <${src}>` : '';
  builder.addInline(`[${alt || 'image'}]${shown}`, { noWordTransform: true });
};

const sameTarget = (text: string, href: string) => text.replace(/\/+$/, '') === href.replace(/^mailto:/, '').replace(/\/+$/, '');

/** `text <url>`, or just the text when it already is the URL (give or take a trailing slash). */
const anchor: FormatCallback = (elem, walk, builder) => {
  const href = attribute(elem, 'href');
  const children = elem.children ?? [];
  const onlyText = children.length === 1 && children[0]?.type === 'text' ? String(children[0].data).trim() : undefined;
  walk(children, builder);
  if (href && !(onlyText !== undefined && sameTarget(onlyText, href))) {
    builder.addInline(` <${href.replace(/^mailto:/, '')}>`, { noWordTransform: true });
  }
};

const formatters = { heading1: heading(1), heading2: heading(2), heading3: heading(3), heading4: heading(4), image, anchor };

/**
 * A word longer than the line is kept whole, never split: it is almost always a URL, and a
 * split URL is no longer recognised as a link. html-to-text 10 splits a long word at the
 * last of `longWordSplit.wrapCharacters` it finds; with the default empty list it looks up
 * `wrapCharacters[0]`, i.e. `undefined`, which `lastIndexOf` turns into the string
 * "undefined", so it split URLs after that word (in table cells too, wrapped or not). A
 * character no post contains (NUL is refused on reading) gives it nothing to split at.
 */
const NEVER_SPLIT = { wrapCharacters: ['\u0000'], forceWrapOnLimit: false };

const options = (wordwrap: number | false) => ({
  wordwrap,
  longWordSplit: NEVER_SPLIT,
  formatters,
  selectors: [
    { selector: 'h1', format: 'heading1' },
    { selector: 'h2', format: 'heading2' },
    { selector: 'h3', format: 'heading3' },
    { selector: 'h4', format: 'heading4' },
    { selector: 'h5', format: 'heading4' },
    { selector: 'h6', format: 'heading4' },
    { selector: 'img', format: 'image' },
    { selector: 'a', format: 'anchor' },
    { selector: 'table', format: 'dataTable', options: { maxColumnWidth: 40 } },
    { selector: 'ul', options: { itemPrefix: ' - ' } },
    { selector: 'hr', options: { length: 40 } },
  ],
});

// CJK prose has no spaces to wrap at; wrapping at the few it has breaks sentences apart.
const convertWrapped = compile(options(78));
const convertUnwrapped = compile(options(false));

export function htmlToText(html: string, { wrap }: { wrap: boolean }): string {
  return (wrap ? convertWrapped : convertUnwrapped)(html)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
