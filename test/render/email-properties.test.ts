/** The properties catch what they are for: each one fails on an issue with the defect. */
import { describe, expect, it } from 'vitest';
import type { Issue } from '../../src/render/issue.ts';
import { expectCleanPreheader, expectUrlsUnbrokenInText } from './email-properties.ts';

const issue = (fields: Partial<Issue>): Issue => ({
  slug: 's',
  subject: 'S',
  preheader: '',
  date: undefined,
  mjml: '',
  html: '<body></body>',
  text: '',
  warnings: [],
  ...fields,
});

describe('expectCleanPreheader', () => {
  it.each([
    ['a URL', 'Rust <https://www.rust-lang.org/> is a language'],
    ['a bare www address', 'See www.example.org today'],
    ['an image placeholder', '[图片] SOFA Weekly'],
    ['a heading marker', '## SOFA Weekly｜每周精选'],
    ['a quote marker', '> quoted words'],
    ['a list marker', '- first item'],
    ['leftover emphasis', 'a **bold** claim'],
    ['a leftover link', 'the link](somewhere'],
    ['an HTML tag', 'words <br> more words'],
    ['runs of spaces', 'two  spaces'],
    ['more than 140 characters', 'word '.repeat(40).trim()],
    ['a space before the ellipsis', 'cut after a space …'],
  ])('fails on %s', (_name, preheader) => {
    expect(() => expectCleanPreheader(issue({ preheader }))).toThrow();
  });

  it('fails on a word cut in the middle', () => {
    expect(() => expectCleanPreheader(issue({ preheader: 'Hello wor…', text: 'Hello world, again.' }))).toThrow();
  });

  it.each([
    ['prose cut between words', 'Hello world, and welcome to the issue…', 'Hello world, and welcome to the issue of this week.'],
    ['Chinese cut between characters', '本周发布了新版本，修复了若干…', '本周发布了新版本，修复了若干问题。'],
    ['a whole short text', 'Short and sweet.', 'Short and sweet.'],
  ])('passes %s', (_name, preheader, text) => {
    expect(() => expectCleanPreheader(issue({ preheader, text }))).not.toThrow();
  });
});

describe('expectUrlsUnbrokenInText', () => {
  const url = 'https://blog.example.org/2025/02/undefined-behaviour-in-practice-what-it-means.html';
  const html = `<body><p><a href="${url}">Read</a></p></body>`;

  it.each([
    ['split after "undefined"', `Read <https://blog.example.org/2025/02/undefined\n-behaviour-in-practice-what-it-means.html>`],
    ['missing', 'Read'],
    ['glued to a word before its scheme', `Readhttps://blog.example.org/2025/02/undefined-behaviour-in-practice-what-it-means.html`],
    ['glued to more URL characters after it', `Read <${url}x>`],
  ])('fails on a URL %s', (_name, text) => {
    expect(() => expectUrlsUnbrokenInText(issue({ html, text }))).toThrow();
  });

  it.each([
    ['in angle brackets', `Read <${url}>.`],
    ['after CJK punctuation', `地址：${url}\n`],
    ['followed by a full stop', `Read ${url}.`],
  ])('passes a URL %s', (_name, text) => {
    expect(() => expectUrlsUnbrokenInText(issue({ html, text }))).not.toThrow();
  });
});
