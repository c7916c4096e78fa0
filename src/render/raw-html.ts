/**
 * Raw HTML in a post: which `<…>` the author meant as HTML, and the same URL rules for raw
 * `<a href>` and `<img src>` as for Markdown links.
 *
 * The rule. Posts about programming are full of text that looks like a tag: `Vec<T>`,
 * `Result<Option>`, `FromIterator<A>`, `<SOFA:RPCLab/>`. Given to the sanitizer as HTML, a
 * tag it keeps (`<a>`, `<b>`) wraps the rest of the paragraph, and one it drops with its
 * content (`<option>`, `<title>`) eats the author's words. So a tag counts as HTML only
 * when it is written the way HTML is written:
 *   - its name is an HTML element, and what follows the name is attributes (`<a, b>` is not);
 *   - the name is in lower case (`<br />`, `<strong>`, `<a href="…">`, `<details>`), or it
 *     carries an attribute with a value (`<A HREF="…">`, `<FONT COLOR=red>`), or it is an
 *     upper-case void or unsafe element (`<BR>`, `<HR>`, `<SCRIPT>`), as old HTML was written;
 *   - a closing tag in upper or mixed case (`</A>`) only closes one such element opened before.
 * Everything else (`<A>`, `<B>`, `<Option>`, `<Select>`, `<Head>`, `<T>`) is text, shown as
 * written. Unsafe elements written as HTML stay HTML so that the sanitizer removes them and
 * the author is told (HTML_REMOVED).
 */
import htmlTags, { voidHtmlTags } from 'html-tags';
import { escapeHtml } from '../escape-html.ts';
import type { RenderWarning } from './issue.ts';
import { resolveUrl } from './resolve-url.ts';
import { ALLOWED_TAGS } from './sanitize-fragment.ts';

const ELEMENTS = new Set<string>([...htmlTags, ...ALLOWED_TAGS]);
const VOID_ELEMENTS = new Set<string>(voidHtmlTags);
/** Removed by the sanitizer (with their content, for the ones that hold any); the author is warned. */
const UNSAFE_ELEMENTS = new Set(['script', 'iframe', 'style', 'object', 'embed', 'form', 'frame', 'frameset', 'link', 'meta', 'base', 'noscript']);

const TAG = /<(\/?)([A-Za-z][\w:.-]*)([^<>]*)>/g;
// CommonMark's raw HTML attribute grammar (marked's inline tag rule is the same), so both agree on what is a tag.
const ATTRIBUTES = /^(?:\s+[A-Za-z_:][\w:.-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*\/?$/;
const EVENT_HANDLER = /\son[a-z]+\s*=/i;

type WarnAt = (code: RenderWarning['code'], message: string, index: number) => void;

/** What one post's raw HTML has opened so far: upper-case elements whose closing tag is HTML too. */
export type OpenElements = Map<string, number>;

function meantAsHtml(closing: boolean, name: string, rest: string, open: OpenElements): boolean {
  const lower = name.toLowerCase();
  if (!ELEMENTS.has(lower)) return false;
  if (closing ? rest.trim() !== '' : !ATTRIBUTES.test(rest)) return false;
  if (name === lower) return true;
  if (closing) {
    const count = open.get(name) ?? 0;
    if (count > 0) open.set(name, count - 1);
    return count > 0;
  }
  const upperCase = name === name.toUpperCase();
  if (!rest.includes('=') && !(upperCase && (VOID_ELEMENTS.has(lower) || UNSAFE_ELEMENTS.has(lower)))) return false;
  if (!VOID_ELEMENTS.has(lower) && !rest.trimEnd().endsWith('/')) open.set(name, (open.get(name) ?? 0) + 1);
  return true;
}

/** True for an HTML token that is a line break the author typed (`<br>`, `<br />`, `<BR>`). */
export const isLineBreakTag = (html: string) => /^<(?:br|BR)(?:\s[^<>]*)?\/?>$/.test(html.trim());

/**
 * Escapes the tag-like text that is not HTML, rewrites raw link and image URLs, and reports
 * unsafe HTML. Indexes given to `warnAt` are those of `html` as written.
 */
export function authorHtml(html: string, baseUrl: string, open: OpenElements, warnAt: WarnAt): string {
  return html.replace(TAG, (whole: string, slash: string, name: string, rest: string, index: number) => {
    if (!meantAsHtml(slash === '/', name, rest, open)) return escapeHtml(whole);
    const lower = name.toLowerCase();
    if (UNSAFE_ELEMENTS.has(lower) || EVENT_HANDLER.test(rest)) {
      warnAt('HTML_REMOVED', 'unsafe HTML (script, iframe, style, form or event handler) removed', index);
    }
    if (slash || (lower !== 'a' && lower !== 'img')) return whole;
    return `<${name}${rewriteUrls(lower === 'img', rest, baseUrl, (code, message) => warnAt(code, message, index))}>`;
  });
}

/** Raw `<a href>` and `<img src>` in a post follow the same rules as Markdown links. */
function rewriteUrls(isImage: boolean, attributes: string, baseUrl: string, warn: (code: RenderWarning['code'], message: string) => void): string {
  if (isImage && !/\balt\s*=\s*("[^"]+"|'[^']+')/i.test(attributes)) warn('IMAGE_ALT_MISSING', 'image without alt text');
  return attributes.replace(/\b(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi, (_m, attr: string, dq?: string, sq?: string, bare?: string) => {
    const value = dq ?? sq ?? bare ?? '';
    const verdict = resolveUrl(value, baseUrl, { allowData: isImage });
    if (verdict.kind === 'unfollowable') {
      warn('LINK_UNFOLLOWABLE', `${isImage ? 'image' : 'link'} "${value.slice(0, 80)}": ${verdict.reason}`);
      return '';
    }
    if (verdict.kind === 'data') warn('IMAGE_DATA_URI', 'data: image: Gmail and Outlook do not show it');
    else if (verdict.insecure) warn(isImage ? 'IMAGE_INSECURE' : 'LINK_INSECURE', `${isImage ? 'image' : 'link'} uses http, not https: ${verdict.url}`);
    return `${attr}="${escapeHtml(verdict.url)}"`;
  });
}
