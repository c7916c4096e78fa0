/**
 * The allow-list for HTML that reaches subscribers. Everything the Markdown produces
 * passes; script, iframe, style, event handlers and javascript: URLs never do.
 */
import sanitizeHtml from 'sanitize-html';

/** Elements that reach subscribers; raw-html.ts also counts them as HTML (`<center>`, `<font>` are in no standard list). */
export const ALLOWED_TAGS: readonly string[] = [
  'p',
  'br',
  'hr',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'pre',
  'code',
  'kbd',
  'samp',
  'strong',
  'b',
  'em',
  'i',
  'u',
  's',
  'del',
  'ins',
  'mark',
  'sub',
  'sup',
  'small',
  'abbr',
  'cite',
  'q',
  'ul',
  'ol',
  'li',
  'dl',
  'dt',
  'dd',
  'a',
  'img',
  'figure',
  'figcaption',
  'table',
  'thead',
  'tbody',
  'tfoot',
  'tr',
  'th',
  'td',
  'caption',
  'div',
  'span',
  'center',
  'font',
];

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [...ALLOWED_TAGS],
  allowedAttributes: {
    a: ['href', 'title'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    ol: ['start'],
    th: ['align', 'colspan', 'rowspan', 'style'],
    td: ['align', 'colspan', 'rowspan', 'style'],
    div: ['class', 'align'],
    p: ['align'],
    font: ['color'],
    abbr: ['title'],
  },
  // A table column's alignment, and nothing else a style attribute could carry.
  allowedStyles: {
    th: { 'text-align': [/^(?:left|center|right)$/] },
    td: { 'text-align': [/^(?:left|center|right)$/] },
  },
  allowedClasses: { div: ['nl-table'] },
  allowedSchemes: ['http', 'https', 'mailto', 'tel'],
  allowedSchemesByTag: { img: ['http', 'https', 'data'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Dropped with their content: code and styling must not leak into the email as text. Only
  // unsafe elements, which the author is warned about (raw-html.ts); any other element the
  // sanitizer drops (`<option>`, `<title>`, `<textarea>`) leaves the author's words behind.
  nonTextTags: ['script', 'style', 'noscript', 'iframe', 'object'],
};

export function sanitizeFragment(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}
