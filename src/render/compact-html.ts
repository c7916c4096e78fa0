/**
 * The rendered email made smaller without changing what any client shows: Gmail clips
 * messages whose HTML passes 102 KB, and MJML's output is indented, commented and full of
 * `prop: value; ` style attributes. PURE.
 *
 * - A run of whitespace becomes one character (a newline if it held one, else a space):
 *   outside `<pre>` a browser shows any run as one space, so nothing visible changes.
 * - `<pre>` keeps every character of its text.
 * - Comments go, except Outlook's conditional comments (`<!--[if mso]>`), which are markup.
 * - Style attributes and `<style>` blocks lose the spaces and comments CSS does not need.
 * Attribute values other than `style` are left as they are: the delivery placeholders and
 * every URL pass through unchanged.
 */

// A tag, allowing `>` inside quoted attribute values.
const TAG_SOURCE = String.raw`<[A-Za-z/!?][^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>`;
const TAG = new RegExp(TAG_SOURCE, 'g');
const TOKEN = new RegExp(String.raw`<!--[\s\S]*?-->|<(pre|style|textarea)(?=[\s>])[^>]*>[\s\S]*?</\1\s*>|${TAG_SOURCE}`, 'gi');
const CONDITIONAL_COMMENT = /^<!--\s*(\[if\b|<!\[endif\])/i;
const WHITESPACE = /[ \t\n\r\f]+/g;

const collapse = (text: string) => text.replace(WHITESPACE, (run) => (run.includes('\n') ? '\n' : ' '));

/** `color: #fff; padding: 0 4px;` -> `color:#fff;padding:0 4px`. Splits only outside parentheses and quotes. */
export function compactDeclarations(css: string): string {
  const declarations: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  const take = (end: number) => {
    const declaration = css.slice(start, end).trim().replace(WHITESPACE, ' ');
    const colon = declaration.indexOf(':');
    if (colon > 0) declarations.push(`${declaration.slice(0, colon).trimEnd()}:${declaration.slice(colon + 1).trimStart()}`);
    else if (declaration) declarations.push(declaration);
  };
  for (let i = 0; i < css.length; i++) {
    const c = css[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth += 1;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ';' && depth === 0) {
      take(i);
      start = i + 1;
    }
  }
  take(css.length);
  return declarations.join(';');
}

/** A style sheet without comments and without the spaces around its punctuation. */
export function compactStyleSheet(css: string): string {
  return css
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(WHITESPACE, ' ')
    .replace(/\s*([{};,>])\s*/g, '$1')
    .replace(/:\s+/g, ':')
    .replace(/;}/g, '}')
    .trim();
}

function compactTag(tag: string): string {
  // Whitespace between attributes collapses; quoted values are kept, except style's declarations.
  const parts = tag.split(/("[^"]*"|'[^']*')/);
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i % 2 === 1) {
      out += /\sstyle=$/i.test(out) ? `"${compactDeclarations(part.slice(1, -1).replace(/"/g, "'"))}"` : part;
    } else {
      out += part.replace(WHITESPACE, ' ').replace(/ ?(\/?>)$/, '$1');
    }
  }
  return out;
}

function compactElement(token: string): string {
  const name = /^<([a-z]+)/i.exec(token)![1]!.toLowerCase();
  const openEnd = token.indexOf('>') + 1;
  const closeStart = token.lastIndexOf('</');
  const open = compactTag(token.slice(0, openEnd));
  const inner = token.slice(openEnd, closeStart);
  if (name === 'style') return `${open}${compactStyleSheet(inner)}</style>`;
  // pre and textarea: every character of the text stays; only the tags inside get smaller.
  return `${open}${inner.replace(TAG, compactTag)}${token.slice(closeStart)}`;
}

export function compactHtml(html: string): string {
  let out = '';
  // Text on both sides of a dropped comment is one run of text: it collapses as one.
  let text = '';
  let last = 0;
  for (const match of html.matchAll(TOKEN)) {
    text += html.slice(last, match.index);
    last = match.index + match[0].length;
    const token = match[0];
    if (token.startsWith('<!--') && !CONDITIONAL_COMMENT.test(token)) continue;
    out += collapse(text);
    text = '';
    if (token.startsWith('<!--')) out += collapse(token);
    else if (match[1]) out += compactElement(token);
    else out += compactTag(token);
  }
  return out + collapse(text + html.slice(last));
}
