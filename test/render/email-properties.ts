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
