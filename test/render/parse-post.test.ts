import { describe, expect, it } from 'vitest';
import { isNewsletterError } from '../../src/errors.ts';
import { parsePost, slugFromPath } from '../../src/render/parse-post.ts';

const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};

describe('parsePost', () => {
  it('reads YAML front matter and keeps the date as the author wrote it', () => {
    const post = parsePost('---\ntitle: "Hello"\ndate: 2019-11-01T01:00:00+08:00\ndescription: intro\n---\n\nBody\n', 'a.md');
    expect(post.meta.title).toBe('Hello');
    // 01:00 in UTC+8 is still 31 October in UTC: the post's own calendar day wins.
    expect(post.meta.date).toBe('2019-11-01');
    expect(post.meta.description).toBe('intro');
    expect(post.meta.author).toBeUndefined();
    expect(post.bodyLine).toBe(6);
    expect(post.markdown.trim()).toBe('Body');
  });

  it('accepts a quoted string that continues on the next line, as real posts have', () => {
    const post = parsePost('---\ntitle: "T"\ndescription: "first line\n"\n---\nx\n', 'a.md');
    expect(post.meta.description).toBe('first line');
  });

  it('reads Pelican-style `Key: value` headers', () => {
    const post = parsePost('Title: Issue 51\nDate: 2014-06-10 22:46\nCategory: News\n\nHello\n', 'b.md');
    expect(post.meta.title).toBe('Issue 51');
    expect(post.meta.date).toBe('2014-06-10');
    expect(post.bodyLine).toBe(5);
    expect(post.markdown).toBe('Hello\n');
  });

  it('tolerates a BOM and CRLF line endings', () => {
    const post = parsePost('\uFEFF---\r\ntitle: T\r\n---\r\nBody\r\n', 'c.md');
    expect(post.meta.title).toBe('T');
    expect(post.markdown).toBe('Body\n');
  });

  it('names the exact line of a YAML error', () => {
    const error = errorOf(() => parsePost('---\ntitle: ok\nauthor: "x" y\ndate: 2020-01-01\n---\nbody\n', 'posts/bad.md'));
    expect(isNewsletterError(error, 'POST_FRONT_MATTER_INVALID') && error.location.line).toBe(3);
  });

  it('names file and line when the YAML is malformed', () => {
    const error = errorOf(() => parsePost('---\ntitle: ok\ntags: [a, b\nauthor: x\n---\nbody\n', 'posts/bad.md'));
    expect(isNewsletterError(error, 'POST_FRONT_MATTER_INVALID')).toBe(true);
    if (!isNewsletterError(error)) return;
    expect(error.location.file).toBe('posts/bad.md');
    // The file's line where the YAML parser gives up (the unclosed list opens on line 3).
    expect(error.location.line).toBe(4);
    expect(error.toOneLine()).toMatch(/^posts\/bad\.md:4: /);
  });

  it('refuses a post without a title', () => {
    const error = errorOf(() => parsePost('---\nauthor: me\n---\nbody\n', 'x.md'));
    expect(isNewsletterError(error, 'POST_TITLE_MISSING')).toBe(true);
  });

  it('refuses a post whose front matter is never closed', () => {
    const error = errorOf(() => parsePost('---\ntitle: x\n\nbody\n', 'x.md'));
    expect(isNewsletterError(error, 'POST_FRONT_MATTER_INVALID')).toBe(true);
  });

  it('refuses an impossible date and points at its line', () => {
    const error = errorOf(() => parsePost('---\ntitle: x\ndate: 2019-02-30\n---\nbody\n', 'x.md'));
    expect(isNewsletterError(error, 'POST_DATE_INVALID')).toBe(true);
    if (isNewsletterError(error)) expect(error.location.line).toBe(3);
  });
});

describe("parsePost dates, as the authors' site generators read them", () => {
  it.each([
    ['Title: T\nDate: 2020-12-2\n\nBody\n', '2020-12-02'],
    ['Title: T\nDate: 2020/12/02 10:20\n\nBody\n', '2020-12-02'],
    ['Title: T\nDate: 2 Dec 2020\n\nBody\n', '2020-12-02'],
    ['---\ntitle: T\ndate: 2020-1-9\n---\nBody\n', '2020-01-09'],
    ['---\ntitle: T\ndate: "2020-12-02 10:20"\n---\nBody\n', '2020-12-02'],
  ])('reads %j as %s', (source, iso) => {
    expect(parsePost(source, 'a.md').meta.date).toBe(iso);
  });

  it.each([
    ['Title: T\nCategory: x\nDate: 2020-02-30\n\nBody\n', 3],
    ['---\ntitle: T\ndate: 2020-02-30 10:20\n---\nBody\n', 3],
    ['---\ntitle: T\nauthor: A\ndate: soon\n---\nBody\n', 4],
    ['---\ntitle: T\ndate: 03/04/2020\n---\nBody\n', 3],
  ])('refuses %j with file, line and field', (source, line) => {
    const error = errorOf(() => parsePost(source, 'posts/x.md'));
    expect(isNewsletterError(error, 'POST_DATE_INVALID')).toBe(true);
    if (isNewsletterError(error)) expect(error.location).toEqual({ file: 'posts/x.md', line, field: 'date' });
  });
});

describe('parsePost text', () => {
  it('keeps a U+FFFD the author wrote (a string is already text)', () => {
    const post = parsePost('Title: T\nDate: 2014-02-09\n\nShown as \uFFFD when a byte is bad.\n', 'a.md');
    expect(post.markdown).toContain('\uFFFD');
  });
});

describe('parsePost issue numbers', () => {
  it.each([
    ['Title: This Week in Rust 587\nNumber: 587\nDate: 2025-02-19\n\nBody\n', 587],
    ['---\ntitle: T\nnumber: 12\n---\nBody\n', 12],
    ['---\ntitle: T\nNumber: "34"\n---\nBody\n', 34],
    ['---\ntitle: T\nissue: 7\n---\nBody\n', 7],
    ['---\ntitle: T\n---\nBody\n', undefined],
    ['Title: T\nNumber:\n\nBody\n', undefined],
  ])('reads %j as %s', (source, number) => {
    const post = parsePost(source, 'a.md');
    expect(post.meta.number).toBe(number);
    expect(post.warnings).toEqual([]);
  });

  it.each([
    ['Title: T\nNumber: 58a\n\nBody\n', 2, 'number'],
    ['---\ntitle: T\ndate: 2020-01-01\nnumber: 0\n---\nBody\n', 4, 'number'],
    ['---\ntitle: T\nNumber: -3\n---\nBody\n', 3, 'Number'],
    ['---\ntitle: T\nissue: 1.5\n---\nBody\n', 3, 'issue'],
    ['---\ntitle: T\nissue: [1, 2]\n---\nBody\n', 3, 'issue'],
  ])('warns, without refusing, about %j (line %s, field %s)', (source, line, field) => {
    const post = parsePost(source, 'a.md');
    expect(post.meta.number).toBeUndefined();
    expect(post.warnings).toEqual([expect.objectContaining({ code: 'POST_FIELD_INVALID', line, field })]);
    expect(post.warnings[0]!.message).toContain(field);
  });
});

describe('parsePost languages', () => {
  it.each([
    ['---\ntitle: T\nlang: zh-CN\n---\nBody\n', 'zh-CN'],
    ['---\ntitle: T\nlanguage: zh_CN\n---\nBody\n', 'zh-CN'],
    ['Title: T\nLang: en-us\n\nBody\n', 'en-US'],
    ['---\ntitle: T\n---\nBody\n', undefined],
  ])('reads %j as %s', (source, language) => {
    const post = parsePost(source, 'a.md');
    expect(post.meta.language).toBe(language);
    expect(post.warnings).toEqual([]);
  });

  it('warns about a language tag no one can read, naming line and field, and leaves it undeclared', () => {
    const post = parsePost('---\ntitle: T\ndate: 2024-01-01\nlang: 中文\n---\nBody\n', 'a.md');
    expect(post.meta.language).toBeUndefined();
    expect(post.warnings).toEqual([expect.objectContaining({ code: 'POST_FIELD_INVALID', line: 4, field: 'lang' })]);
  });
});

describe('slugFromPath', () => {
  it('uses the file name, or the folder name for index.md', () => {
    expect(slugFromPath('emails/posts/sofa-weekly-2019-11-01.md')).toBe('sofa-weekly-2019-11-01');
    expect(slugFromPath('content/blog/sofa-weekly-0421/index.md')).toBe('sofa-weekly-0421');
    expect(slugFromPath('x/2014-06-10-this-week.markdown')).toBe('2014-06-10-this-week');
  });
});
