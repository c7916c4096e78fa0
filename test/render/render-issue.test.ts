import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../src/config.ts';
import { parsePost } from '../../src/render/parse-post.ts';
import { renderIssue } from '../../src/render/render-issue.ts';
import { fillPlaceholders } from '../../src/render/placeholders.ts';
import { loadTemplates } from '../../src/render/templates.ts';
import { expectCleanPreheader, expectHiddenPreheader, expectReadableSafeEmail, expectUrlsUnbrokenInText } from './email-properties.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/posts/${name}`, import.meta.url));
const identity: Identity = {
  name: 'Demo Weekly',
  fromAddress: 'weekly@demo.example.org',
  siteUrl: 'https://demo.example.org',
  postalAddress: '1 Example Street, Example City',
  language: 'zh-CN',
  reason: 'You get this because you subscribed to Demo Weekly.',
  listId: 'weekly.demo.example.org',
};
const templates = loadTemplates();

async function renderFixture(name: string, overrides: Partial<Identity> = {}, baseUrl?: string) {
  const file = fixture(name);
  const source = readFileSync(file, 'utf8');
  const issue = await renderIssue(parsePost(source, file), { identity: { ...identity, ...overrides }, templates, baseUrl });
  return { issue, source };
}

let qaWeekly: ReturnType<typeof renderFixture> | undefined;
/** The post most tests below read, rendered once for all of them: MJML is the slow part. */
const renderQaWeekly = () => (qaWeekly ??= renderFixture('qa-weekly/index.md'));

describe('renderIssue on a post with everything editors paste', () => {
  it('produces a readable, safe email', async () => {
    const { issue, source } = await renderQaWeekly();
    expectReadableSafeEmail(issue, source);
  });

  it('takes the subject from the title with entities decoded, and the preheader from the description', async () => {
    const { issue } = await renderQaWeekly();
    expect(issue.slug).toBe('qa-weekly');
    expect(issue.subject).toBe('Demo Weekly | 本周精选 & 问答【3/1 - 3/7】');
    expect(issue.preheader).toBe('Demo WEEKLY | 每周精选，筛选每周精华问答');
    expectHiddenPreheader(issue);
  });

  it("shows the post's own calendar date, not the UTC one", async () => {
    // 2024-03-07T01:30+08:00 is 6 March in UTC.
    const { issue } = await renderQaWeekly();
    expect(issue.date).toBe('2024-03-07');
    expect(issue.html).toContain('2024年3月7日');
    expect(issue.html).not.toContain('2024年3月6日');
  });

  it('puts the cover image, absolute, in the header', async () => {
    const { issue } = await renderQaWeekly();
    expect(issue.html).toMatch(/<img[^>]+src="https:\/\/demo\.example\.org\/img\/cover\.png"/);
  });

  it('lets --base-url override the site for relative links', async () => {
    const { issue } = await renderFixture('qa-weekly/index.md', {}, 'https://mirror.example.net');
    expect(issue.html).toContain('href="https://mirror.example.net/blog/logo/"');
  });

  it('keeps nested quotes, images in links, tables and numbered lists in both parts', async () => {
    const { issue } = await renderQaWeekly();
    expect(issue.html).toMatch(/<blockquote[^>]*>[\s\S]*<blockquote/);
    expect(issue.html).toMatch(/<a href="https:\/\/demo\.example\.org\/blog\/logo\/"[^>]*><img/);
    expect(issue.html).toContain('class="nl-table"');
    expect(issue.text).toMatch(/^> > 嵌套的引用/m);
    expect(issue.text).toMatch(/^ *1\. 第一步\n *2\. 第二步\n *3\. 第三步/m);
    expect(issue.text).toContain('<https://github.com/example/core/issues/12>');
    expect(issue.text).toContain('<attach>true</attach>');
    expect(issue.text).toMatch(/^### 每周读者问答/m);
  });

  it('reports every problem an editor should fix, with its line in the post', async () => {
    const { issue, source } = await renderQaWeekly();
    const lines = source.split('\n');
    const byCode = (code: string) => issue.warnings.filter((w) => w.code === code);
    expect(byCode('LINK_UNFOLLOWABLE').map((w) => lines[w.line! - 1])).toEqual([
      expect.stringContaining('dingtalk://'),
      expect.stringContaining('hhttps://'),
      expect.stringContaining('[无]()'),
      expect.stringContaining('javascript:'),
    ]);
    expect(byCode('HTML_REMOVED').length).toBeGreaterThan(0);
    expect(lines[byCode('IMAGE_DATA_URI')[0]!.line! - 1]).toContain('data:image');
    expect(lines[byCode('IMAGE_INSECURE')[0]!.line! - 1]).toContain('http://insecure');
    expect(byCode('IMAGE_ALT_MISSING')).toHaveLength(1);
  });

  it('leaves placeholders that delivery fills per recipient', async () => {
    const { issue } = await renderQaWeekly();
    const filled = fillPlaceholders(issue.html, {
      unsubscribeUrl: 'https://nl.example/unsubscribe/TOKEN',
      viewInBrowserUrl: 'https://nl.example/issues/qa-weekly',
    });
    expect(filled).toContain('href="https://nl.example/unsubscribe/TOKEN"');
    expect(filled).toContain('href="https://nl.example/issues/qa-weekly"');
    expect(filled).not.toContain('__NL_');
  });
});

describe('renderIssue on an English post with Pelican headers', () => {
  it('joins hard-wrapped lines, keeps generics as text and formats the date in English', async () => {
    const { issue, source } = await renderFixture('pelican-style.md', { language: 'en' });
    expectReadableSafeEmail(issue, source);
    expect(issue.subject).toBe('Example Weekly 42');
    expect(issue.html).toContain('June 10, 2024');
    expect(issue.html).toContain('This paragraph is hard-wrapped, the way English writers\ndo it');
    expect(issue.html).toContain('&lt;Exclusive&lt;T&gt;&gt;');
    expect(issue.text).toContain('<Exclusive<T>>');
    expect(issue.text).toMatch(/^> Prefer explicit lifetimes\./m);
    expect(issue.warnings.map((w) => w.code)).toEqual(['LINK_INSECURE']);
  });
});

describe('renderIssue with the language of the post', () => {
  it("joins an English post's wrapped lines in a Chinese newsletter, marks it English, keeps the newsletter's labels", async () => {
    const { issue, source } = await renderFixture('english-in-chinese-newsletter.md');
    expectReadableSafeEmail(issue, source);
    expect(issue.html).toContain('who wrap\ntheir lines');
    expect(issue.html).not.toMatch(/who wrap<br/);
    expect(issue.html).toMatch(/<html[^>]* lang="en"/);
    expect(issue.html).toContain('2024年3月7日');
    expect(issue.text).toContain('在浏览器中查看');
    expect(issue.text.replace(/\s+/g, ' ')).toContain('who wrap their lines');
  });

  it('keeps the line breaks of a Chinese post in an English newsletter, with English labels', async () => {
    const { issue, source } = await renderFixture('chinese-no-lang.md', { language: 'en' });
    expectReadableSafeEmail(issue, source);
    expect(issue.html).toMatch(/本周发布了新版本，<br\s*\/?>/);
    expect(issue.html).toMatch(/<html[^>]* lang="zh"/);
    expect(issue.html).toContain('March 14, 2024');
    expect(issue.text).toContain('View in browser');
    expect(issue.text).toMatch(/本周发布了新版本，\n修复了若干问题/);
  });

  it('follows a declared language for labels and date too', async () => {
    const post = parsePost('---\ntitle: T\nlang: en\ndate: 2024-03-07\n---\n\n本周发布了新版本，\n修复了若干问题。\n', 't.md');
    const issue = await renderIssue(post, { identity, templates });
    expect(issue.html).toMatch(/<html[^>]* lang="en"/);
    expect(issue.html).toContain('March 7, 2024');
    expect(issue.text).toContain('Unsubscribe');
  });
});

describe('renderIssue preheader', () => {
  it.each([
    ['numbered-issue.md', 'en', /^Hello and welcome to another issue of Example Weekly! Example is a language that lets you write software/],
    ['english-in-chinese-newsletter.md', 'zh-CN', /^Demo Weekly \| This week · This release was written/],
    ['chinese-no-lang.md', 'zh-CN', /^示例周报 \| 每周精选 · 官网 · 本周发布了新版本，修复了若干问题/],
  ])('is clean readable text for %s', async (name, language, start) => {
    const { issue } = await renderFixture(name, { language });
    expectCleanPreheader(issue);
    expect(issue.preheader).toMatch(start);
    expectHiddenPreheader(issue);
  });

  it('comes from the description, cleaned the same way, when there is one', async () => {
    const post = parsePost('---\ntitle: T\ndescription: "**New** release: see https://x.org/r &amp; more"\n---\n\nBody text.\n', 't.md');
    const issue = await renderIssue(post, { identity, templates });
    expect(issue.preheader).toBe('New release: see & more');
  });
});

describe('renderIssue with an issue number', () => {
  it('says "Issue 587" in the header and the text part, and keeps URLs whole', async () => {
    const { issue, source } = await renderFixture('numbered-issue.md', { language: 'en' });
    expectReadableSafeEmail(issue, source);
    expectUrlsUnbrokenInText(issue);
    expect(issue.html).toMatch(/>Issue 587</);
    expect(issue.text.split('\n')[0]).toBe('Demo Weekly · Issue 587');
    expect(issue.date).toBe('2025-02-19');
    expect(issue.text).toContain('\uFFFD');
  });

  it('says "第 587 期" in a Chinese newsletter', async () => {
    const { issue } = await renderFixture('numbered-issue.md');
    expect(issue.html).toContain('第 587 期');
    expect(issue.text.split('\n')[0]).toBe('Demo Weekly · 第 587 期');
  });

  it('shows no number and warns, naming line and field, when it is not a positive whole number', async () => {
    const post = parsePost('Title: T\nNumber: 58a\nDate: 2024-01-01\n\nBody.\n', 't.md');
    const issue = await renderIssue(post, { identity, templates });
    expect(issue.html).not.toMatch(/第 .* 期|Issue \d/);
    expect(issue.warnings).toEqual([expect.objectContaining({ code: 'POST_FIELD_INVALID', line: 2, field: 'number' })]);
  });
});

describe('renderIssue lint', () => {
  it('warns when the HTML would be clipped by Gmail', async () => {
    const paragraph = 'A sentence that goes on and on to make the email large. '.repeat(40);
    const post = parsePost(`---\ntitle: Big\ndate: 2024-01-01\n---\n\n${`${paragraph}\n\n`.repeat(60)}`, 'big.md');
    const issue = await renderIssue(post, { identity, templates });
    expect(issue.warnings.map((w) => w.code)).toContain('HTML_TOO_LARGE');
  });

  it('warns when the post has no date', async () => {
    const issue = await renderIssue(parsePost('---\ntitle: Undated\n---\n\nHi\n', 'u.md'), { identity, templates });
    expect(issue.warnings.map((w) => w.code)).toEqual(['POST_DATE_MISSING']);
    expect(issue.date).toBeUndefined();
  });
});

describe('renderIssue with a broken layout', () => {
  it('names the template folder instead of leaking a Mustache error', async () => {
    const broken = { ...templates, partials: { ...templates.partials, footer: '{{#reason}} never closed' } };
    const post = parsePost('---\ntitle: T\ndate: 2024-01-01\n---\n\nHi\n', 't.md');
    await expect(renderIssue(post, { identity, templates: broken })).rejects.toMatchObject({
      code: 'RENDER_FAILED',
      location: { file: templates.dir },
    });
  });
});

describe('loadTemplates', () => {
  it('names the missing template file', async () => {
    const { mkdtempSync, mkdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'newsletter-emails-'));
    mkdirSync(join(dir, 'partials'));
    expect(() => loadTemplates(dir)).toThrow(
      expect.objectContaining({ code: 'RENDER_FAILED', location: expect.objectContaining({ file: join(dir, 'layouts', 'issue.mjml') }) }),
    );
  });
});
