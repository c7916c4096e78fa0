/**
 * What every rendered issue must satisfy, whoever wrote the post. Shared by the tests
 * over our own fixtures and over the corpus of real posts.
 */
import { expect } from 'vitest';
import { decodeHTML } from 'entities';
import type { Issue } from '../../src/render/issue.ts';
import { PLACEHOLDERS } from '../../src/render/placeholders.ts';

const HTML_TAG_IN_TEXT = /<\/?(p|div|span|a|img|br|strong|em|b|i|table|tr|td|th|li|ul|ol|h[1-6]|blockquote|pre|code|script|style)\b[^>]*>/i;

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
