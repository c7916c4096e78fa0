/**
 * What every rendered issue must satisfy, whoever wrote the post. Shared by the tests
 * over our own fixtures and over the corpus of real posts.
 */
import { expect } from 'vitest';
import { decodeHTML } from 'entities';
import htmlTags, { voidHtmlTags } from 'html-tags';
import { Marked, type Tokens } from 'marked';
import type { Issue } from '../../src/render/issue.ts';
import { PLACEHOLDERS } from '../../src/render/placeholders.ts';
import { GMAIL_CLIP_BYTES } from '../../src/render/render-issue.ts';

// Lower case only: `FromIterator<A>` and `Pair<B>` are type names the text part shows as written.
const HTML_TAG_IN_TEXT = /<\/?(p|div|span|a|img|br|strong|em|b|i|table|tr|td|th|li|ul|ol|h[1-6]|blockquote|pre|code|script|style)\b[^>]*>/;

/** The visible content of the body, with code (where any character is legitimate) removed. */
function proseOf(html: string): string {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html)?.[1] ?? html;
  return decodeHTML(
    body
      .replace(/<pre[\s\S]*?<\/pre>/gi, ' ')
      .replace(/<code[\s\S]*?<\/code>/gi, ' ')
      .replace(/<[^>]+>/g, ' '),
  );
}

function markdownImagesOutsideCode(markdown: string): number {
  const withoutCode = markdown
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, '')
    .replace(/<!--[\s\S]*?-->/g, '');
  return withoutCode.match(/!\[[^\]]*\]\((?!\s*\))/g)?.length ?? 0;
}

export function expectReadableSafeEmail(issue: Issue, markdown: string): void {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(issue.html)?.[1] ?? '';
  expect(body.length).toBeGreaterThan(0);

  // Nothing unsafe reaches the email body.
  expect(body).not.toMatch(/<script|<iframe|<object|<embed|<style/i);
  expect(body).not.toMatch(/\son[a-z]+\s*=/i);
  expect(body).not.toMatch(/javascript:/i);

  // Every link and image is absolute (or a delivery placeholder).
  const targets = [...body.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => decodeHTML(m[1]!));
  for (const target of targets) {
    const ok = /^(https?:\/\/[^/]|mailto:|tel:|data:image\/)/.test(target) || Object.values(PLACEHOLDERS).includes(target as never);
    expect(ok, `non-absolute URL in the email: ${target}`).toBe(true);
  }

  // No Markdown syntax left visible in the prose.
  const prose = proseOf(issue.html);
  expect(prose).not.toMatch(/\*\*\S/);
  expect(prose).not.toMatch(/\]\((https?:|\/)/);
  expect(prose).not.toMatch(/!\[[^\]]*\]/);
  expect(prose).not.toMatch(/(^|\n)\s*#{1,6}\s/);

  // No image lost on the way.
  const images = body.match(/<img\b/gi)?.length ?? 0;
  expect(images).toBeGreaterThanOrEqual(markdownImagesOutsideCode(markdown));

  // The plain-text part: readable, complete, no HTML.
  expect(issue.text).not.toMatch(HTML_TAG_IN_TEXT);
  expect(issue.text).not.toMatch(/&(amp|lt|gt|quot|nbsp);/);
  const linkTargets = [...body.matchAll(/<a\s[^>]*href="(https?:[^"]*)"/g)].map((m) => decodeHTML(m[1]!));
  for (const target of linkTargets) {
    const shown = issue.text.includes(target) || issue.text.includes(target.replace(/\/+$/, ''));
    expect(shown, `link missing from the text part: ${target}`).toBe(true);
  }
  expect(issue.text).toContain(PLACEHOLDERS.unsubscribeUrl);
  expect(issue.html).toContain(PLACEHOLDERS.unsubscribeUrl);
  expect(issue.html).toContain(PLACEHOLDERS.viewInBrowserUrl);

  // Subject is plain text; Gmail would clip anything over 102 KB.
  expect(issue.subject).not.toMatch(/&[a-z]+;|<|\n/);
  expect(issue.warnings.filter((w) => w.code === 'HTML_TOO_LARGE' || w.code === 'MJML_INVALID')).toEqual([]);
  expect(issue.html).toMatch(/<meta name="color-scheme" content="light dark"/);
}

const URL_IN_TEXT = /\bhttps?:\/\/|\bwww\.[a-z0-9-]+\./i;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * The inbox preview line reads as prose: no URL, no `[image]` placeholder, no heading, list or
 * quote marker, no Markdown left over, at most 140 characters, and cut between words.
 */
export function expectCleanPreheader(issue: Issue): void {
  const preheader = issue.preheader;
  expect(preheader, 'preheader shows a URL').not.toMatch(URL_IN_TEXT);
  expect(preheader, 'preheader shows a [placeholder]').not.toMatch(/\[[^\]]*\]/);
  expect(preheader, 'preheader starts with a Markdown marker').not.toMatch(/^\s*([#>*+-]|\d+[.)]\s)/);
  expect(preheader, 'preheader shows Markdown syntax').not.toMatch(/\*\*|__|`|\]\(/);
  expect(preheader, 'preheader shows an HTML tag').not.toMatch(HTML_TAG_IN_TEXT);
  expect(preheader, 'preheader has runs of whitespace').not.toMatch(/\s{2,}|^\s|\s$/);
  expect([...preheader].length).toBeLessThanOrEqual(140);
  if (!preheader.endsWith('…')) return;
  const cut = preheader.slice(0, -1);
  expect(cut, 'preheader ends in a space before the ellipsis').not.toMatch(/\s$/);
  // Cut at a word boundary: the last word shown is a whole word of the email (CJK text has no
  // words; any character boundary is one).
  const lastWord = /[\p{L}\p{N}_'’]+$/u.exec(cut)?.[0];
  // A word the text part does not hold at all came from the description: nothing to compare with.
  if (!lastWord || CJK_CHAR.test(lastWord.slice(-1)) || !issue.text.includes(lastWord)) return;
  const escaped = lastWord.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const wholeWord = new RegExp(`(^|[^\\p{L}\\p{N}_'’])${escaped}([^\\p{L}\\p{N}_'’]|$)`, 'u');
  expect(wholeWord.test(issue.text), `preheader cuts a word: "…${cut.slice(-30)}"`).toBe(true);
  expect(WORD_CHAR.test(lastWord)).toBe(true);
}

/** Characters a mail client's link detector would take as part of a URL next to it. */
const URL_CHAR = /[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/;

/** `url` stands alone at `index`: nothing a link detector would glue onto it on either side. */
function standsAlone(text: string, index: number, url: string): boolean {
  const before = text[index - 1];
  const after = text.slice(index + url.length);
  // Detectors start a URL at its scheme; only a letter or digit glued on before it changes the scheme.
  if (before !== undefined && /[A-Za-z0-9]/.test(before)) return false;
  // Sentence punctuation after a URL is not part of it when a space or the end follows.
  return !after || !URL_CHAR.test(after[0]!) || /^[.,;:!?)]+(\s|$|[^\x00-\x7F])/.test(after);
}

/** Every http(s) link of the HTML appears whole in the text part, delimited so mail clients recognise it. */
export function expectUrlsUnbrokenInText(issue: Issue): void {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(issue.html)?.[1] ?? issue.html;
  const urls = new Set([...body.matchAll(/<a\s[^>]*href="(https?:[^"]*)"/gi)].map((m) => decodeHTML(m[1]!)));
  for (const url of urls) {
    const whole = [url, url.replace(/\/+$/, '')].some((shown) => {
      for (let at = issue.text.indexOf(shown); at >= 0; at = issue.text.indexOf(shown, at + 1)) {
        if (standsAlone(issue.text, at, shown)) return true;
      }
      return false;
    });
    expect(whole, `URL broken or missing in the text part: ${url}`).toBe(true);
  }
}

/** Post Markdown with code (fenced, indented by a fence, inline) and HTML comments taken out. */
function markdownProse(markdown: string): string {
  return markdown
    .replace(/^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}\1[^\n]*$|(?![\s\S]))/gm, '')
    .replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ');
}

/** Markdown links are made links: neither `](` in the HTML prose nor `[text](url)` in the text part. */
export function expectNoVisibleLinkSyntax(issue: Issue): void {
  const prose = proseOf(issue.html);
  expect(prose, 'visible "](" in the HTML').not.toMatch(/\]\(/);
  expect(prose, 'visible "[…](http" in the HTML').not.toMatch(/\[[^\]]*\]\s*\(\s*(https?:|\/)/);
  // Code may legitimately show Markdown; take what the HTML shows as code out of the text part.
  const codes = [...issue.html.matchAll(/<code[^>]*>([\s\S]*?)<\/code>/gi)].map((m) => decodeHTML(m[1]!.replace(/<[^>]+>/g, '')));
  let text = issue.text;
  for (const code of codes.sort((a, b) => b.length - a.length)) if (code.trim()) text = text.split(code).join(' ');
  expect(text, 'a Markdown link in the text part').not.toMatch(/\[[^\]\n]*\]\(\s*(https?:|\/)[^)\s]*\)/);
}

type Alignment = 'left' | 'center' | 'right';

/** How a cell shows in a client: its last inline text-align wins, then `align`, then the element's default. */
function effectiveAlignment(cellTag: string): string {
  const style = /\sstyle="([^"]*)"/i.exec(cellTag)?.[1] ?? '';
  const declared = [...style.matchAll(/text-align\s*:\s*([a-z]+)/gi)].at(-1)?.[1];
  if (declared) return declared.toLowerCase();
  const align = /\salign="([a-z]+)"/i.exec(cellTag)?.[1];
  if (align) return align.toLowerCase();
  return /^<th\b/i.test(cellTag) ? 'center' : 'left';
}

/** Every cell of a Markdown table shows its column's alignment (`|:---:|` centred, none = left), inline for every client. */
export function expectTableAlignmentKept(issue: Issue, markdown: string): void {
  const columns: Alignment[][] = [];
  const lexer = new Marked({ gfm: true });
  void lexer.walkTokens(lexer.lexer(markdown), (token) => {
    if (token.type === 'table') columns.push((token as Tokens.Table).align.map((a) => a ?? 'left'));
  });
  const tables = [...issue.html.matchAll(/class="nl-table"[^>]*>\s*<table[\s\S]*?<\/table>/gi)].map((m) => m[0]);
  expect(tables.length, 'Markdown tables rendered').toBe(columns.length);
  tables.forEach((table, index) => {
    for (const row of table.match(/<tr\b[\s\S]*?<\/tr>/gi) ?? []) {
      const cells = row.match(/<t[hd]\b[^>]*>/gi) ?? [];
      cells.forEach((cell, column) => {
        const expected = columns[index]![column] ?? 'left';
        expect(effectiveAlignment(cell), `table ${index + 1}, column ${column + 1}: ${cell}`).toBe(expected);
      });
    }
  });
}

const BR = /<br\s*\/?>/gi;

/**
 * No empty line the author did not write: a `<br>` followed by only whitespace and another
 * `<br>` counts against the places where the post itself puts a break next to a break
 * (`<br><br>`, or a `<br>` opening a line after a line of text).
 */
export function expectNoDoubledBreaks(issue: Issue, markdown: string): void {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(issue.html)?.[1] ?? issue.html;
  const doubled = body.replace(/<pre[\s\S]*?<\/pre>/gi, '').match(/<br\s*\/?>(?:\s|&nbsp;)*(?=<br\s*\/?>)/gi)?.length ?? 0;
  const prose = markdownProse(markdown);
  const written = prose.match(/(?:<br\s*\/?>|\S[ \t]*\n)[ \t]*(?=<br\s*\/?>)/gi)?.length ?? 0;
  expect(doubled, `${doubled} doubled breaks, the post writes ${written} (${prose.match(BR)?.length ?? 0} <br> in all)`).toBeLessThanOrEqual(written);
}

const HTML_ELEMENTS = new Set<string>(htmlTags);
const VOID_ELEMENTS = new Set<string>(voidHtmlTags);

/** `Result<Option>`, `FromIterator<A>`, `Vec<T>` written in prose outside code show as written. */
export function expectTagLikeTextVisible(issue: Issue, markdown: string): void {
  const prose = proseOf(issue.html).replace(/\s+/g, ' ');
  const written = markdownProse(markdown)
    .replace(/\]\([^)\s]*\)/g, '] ')
    .replace(/<(?:https?|mailto):[^>\s]*>/gi, ' ');
  for (const [whole, , inner] of written.matchAll(/\b([A-Za-z_]\w*)<([A-Za-z_]\w*)>/g)) {
    // `line<br>`, `word<strong>` and old-style `line<BR>` are HTML the author wrote, the way HTML is written.
    const lower = inner!.toLowerCase();
    if ((inner === lower && HTML_ELEMENTS.has(lower)) || (inner === inner!.toUpperCase() && VOID_ELEMENTS.has(lower))) continue;
    expect(prose, `"${whole}" lost from the HTML`).toContain(whole);
  }
}

/**
 * Every property above, for a post of any shape: the corpus test runs it over real posts and
 * our own fixtures, so a new defect class is checked everywhere by adding it here.
 */
export function expectEveryProperty(issue: Issue, markdown: string): void {
  expectReadableSafeEmail(issue, markdown);
  expectCleanPreheader(issue);
  expectUrlsUnbrokenInText(issue);
  expectNoVisibleLinkSyntax(issue);
  expectTableAlignmentKept(issue, markdown);
  expectNoDoubledBreaks(issue, markdown);
  expectTagLikeTextVisible(issue, markdown);
  expectUnderGmailClip(issue);
  expectCompactHtml(issue);
  expectHiddenPreheader(issue);
}

/** Gmail clips HTML past 102 KB, and with it the footer's unsubscribe link. */
export function expectUnderGmailClip(issue: Issue): void {
  const bytes = Buffer.byteLength(issue.html);
  expect(bytes, `HTML of ${issue.slug} is ${(bytes / 1024).toFixed(1)} KB`).toBeLessThanOrEqual(GMAIL_CLIP_BYTES);
}

/**
 * The cause of long issues passing the clip: styles repeated on every element. The body's
 * prose elements (the most numerous) take their look from the <style> block, and the HTML
 * carries no indentation or comments outside <pre>.
 */
export function expectCompactHtml(issue: Issue): void {
  const start = issue.html.indexOf('class="nl-body"');
  const body = issue.html.slice(start, issue.html.indexOf('nl-foot', start));
  expect(start, 'the body cell').toBeGreaterThan(0);
  const styled = body.match(/<(p|li|ul|ol|a|em|strong|span|br)\s[^>]*\bstyle=/gi) ?? [];
  expect(styled.slice(0, 3), 'prose elements with inline styles').toEqual([]);
  const outsidePre = issue.html.replace(/<pre[\s>][\s\S]*?<\/pre>/gi, '<pre></pre>');
  expect(outsidePre.match(/[ \t\r\n]{2,}/g)?.length ?? 0, 'runs of whitespace outside <pre>').toBe(0);
  const comments = (outsidePre.match(/<!--[\s\S]*?-->/g) ?? []).filter((comment) => !/^<!--(\[if|<!\[endif)/.test(comment));
  expect(comments, 'comments other than conditional ones').toEqual([]);
}

/**
 * The inbox preview line is in the HTML, first in the body, hidden by display, size and
 * mso-hide: never by a text colour, which spam filters score as hidden text.
 */
export function expectHiddenPreheader(issue: Issue): void {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(issue.html)?.[1] ?? '';
  const element = /<div class="nl-preheader" style="([^"]*)">([^<]*)<\/div>/.exec(body);
  expect(element, 'a div.nl-preheader in the body').not.toBeNull();
  const [, style, text] = element!;
  const firstText = body
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<[^>]*>/g, '')
    .trim();
  expect(firstText.startsWith(text!.trim()), 'the preheader is the first text of the body').toBe(true);
  expect(decodeHTML(text!)).toBe(issue.preheader);
  for (const needed of ['display:none', 'mso-hide:all', 'max-height:0', 'overflow:hidden']) expect(style).toContain(needed);
  expect(style).not.toMatch(/(^|;)\s*(color|background|opacity)/);
}
