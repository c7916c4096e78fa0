/**
 * Links whose text holds a backtick that opens no code span: `` [`impl Ord for Cell<T>](https://…) ``.
 *
 * CommonMark (6.1): a backtick run starts a code span only when a run of the same length
 * closes it later; otherwise it is a literal backtick, and link brackets around it still
 * match (commonmark.js and Python-Markdown make a link). marked's link label pattern has
 * no place for such a backtick: it reads every run as the start of a code span
 * (`` `+[^`]*?`+ ``) and, finding none closed inside the label, gives up, so the reader
 * sees `[…](` and a bare URL. Here the unmatched runs are masked with a character the
 * label pattern accepts as text, marked's own link tokenizer reads the masked source, and
 * the backticks are put back into the token. Backticks that do close inside the link text
 * stay code spans.
 */
import { Tokenizer, type Tokens } from 'marked';

// One UTF-16 unit from the Private Use Area: the masked source keeps the offsets of the original.
const MASK = '\uE000';

/** Index of the next run of exactly `length` backticks at or after `from`, or -1. */
function closingRun(src: string, from: number, length: number): number {
  const runs = /`+/g;
  runs.lastIndex = from;
  for (let match = runs.exec(src); match; match = runs.exec(src)) if (match[0].length === length) return match.index;
  return -1;
}

/** True when `text`, read inside link text at bracket depth `depth`, holds the `](` that ends the link text. */
function endsLinkText(text: string, depth: number): boolean {
  for (let at = 0; at < text.length; at++) {
    if (text[at] === '[') depth++;
    else if (text[at] === ']' && --depth === 0) return text[at + 1] === '(';
  }
  return false;
}

/**
 * `src` (starting at `[` or `![`) with the backtick runs of the link text that open no code
 * span masked, or undefined when there is none. A run opens no code span when no run of the
 * same length closes it (CommonMark), or when the run that closes it lies past the `](` that
 * ends the link text: the author wrote a link, and a code span swallowing its `](url)` would
 * show the reader Markdown (commonmark.js does that; we let the link win).
 */
export function maskUnmatchedBackticks(src: string): string | undefined {
  let masked = '';
  let copied = 0;
  let depth = 1;
  for (let at = src.indexOf('[') + 1; at < src.length && depth > 0;) {
    const char = src[at];
    if (char === '\\') {
      at += 2;
      continue;
    }
    if (char !== '`') {
      if (char === '[') depth++;
      if (char === ']') depth--;
      at++;
      continue;
    }
    let end = at;
    while (src[end] === '`') end++;
    const close = closingRun(src, end, end - at);
    if (close === -1 || endsLinkText(src.slice(end, close), depth)) {
      masked += src.slice(copied, at) + MASK.repeat(end - at);
      copied = end;
      at = end;
    } else {
      at = close + (end - at);
    }
  }
  return copied === 0 ? undefined : masked + src.slice(copied);
}

function unmask<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll(MASK, '`') as T;
  if (Array.isArray(value)) return value.map(unmask) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unmask(inner)])) as T;
  }
  return value;
}

const mayNeedMask = (src: string) => (src.startsWith('[') || src.startsWith('![')) && src.includes('`') && !src.includes(MASK);

/** marked's link, read with the unmatched backticks of its text as literal ones; undefined when that changes nothing. */
export function backtickAwareLink(tokenizer: Tokenizer, src: string): Tokens.Link | Tokens.Image | undefined {
  const masked = mayNeedMask(src) ? maskUnmatchedBackticks(src) : undefined;
  const token = masked === undefined ? undefined : Tokenizer.prototype.link.call(tokenizer, masked);
  return token ? unmask(token) : undefined;
}

/** The same for reference links (`[`text][ref]`). */
export function backtickAwareReflink(tokenizer: Tokenizer, src: string, links: Parameters<Tokenizer['reflink']>[1]): Tokens.Link | Tokens.Image | undefined {
  const masked = mayNeedMask(src) ? maskUnmatchedBackticks(src) : undefined;
  const token = masked === undefined ? undefined : Tokenizer.prototype.reflink.call(tokenizer, masked, links);
  return token && token.type !== 'text' ? unmask(token) : undefined;
}
