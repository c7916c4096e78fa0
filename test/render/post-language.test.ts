import { describe, expect, it } from 'vitest';
import { canonicalLanguage, detectScript, postLanguage, proseOfMarkdown } from '../../src/render/post-language.ts';

const english = 'This paragraph is hard-wrapped,\nthe way English writers do it,\nand mentions 张三 once.\n';
const chinese = '本周 SOFARPC 发布了 5.5.8 版本，\n修复了若干问题，欢迎大家升级。\n';
const chineseFullOfCode = `${chinese}\n\`\`\`java\n${'public static void main(String[] args) {}\n'.repeat(40)}\`\`\`\n\nSee [the release notes](https://github.com/sofastack/sofa-rpc/releases/tag/v5.5.8-with-a-very-long-english-url).\n`;
const englishQuotingChinese = `${'The Rust compiler team met this week to discuss incremental compilation. '.repeat(3)}\n\n> 学习 Rust 很有趣\n`;

describe('detectScript', () => {
  it.each([
    ['English prose', english, 'other'],
    ['English quoting one Chinese line', englishQuotingChinese, 'other'],
    ['Chinese prose with English project names', chinese, 'zh'],
    ['Chinese prose beside long English code blocks and URLs', chineseFullOfCode, 'zh'],
    ['Japanese, kanji with kana', 'Rust の新しいバージョンが公開されました。詳しくは公式ブログを読んでください。\n', 'ja'],
    ['Korean', '이번 주 러스트 소식입니다. 새로운 버전이 출시되었습니다.\n', 'ko'],
    ['only code', '```\n代码 代码\n```\n', 'other'],
    ['nothing', '', 'other'],
  ])('%s: %s', (_name, markdown, script) => {
    expect(detectScript(markdown)).toBe(script);
  });
});

describe('proseOfMarkdown', () => {
  it('leaves out fenced and inline code, link targets, bare URLs and tags', () => {
    const prose = proseOfMarkdown('Text `code` [link](https://a.example/x) https://b.example <br/>\n~~~\nfenced\n~~~\nend');
    expect(prose).not.toMatch(/code|a\.example|b\.example|br|fenced/);
    expect(prose).toMatch(/Text[\s\S]*link[\s\S]*end/);
  });
});

describe('canonicalLanguage', () => {
  it.each([
    ['zh-CN', 'zh-CN'],
    ['zh_CN', 'zh-CN'],
    ['EN-us', 'en-US'],
    [' ja ', 'ja'],
    ['中文', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s -> %s', (tag, canonical) => {
    expect(canonicalLanguage(tag)).toBe(canonical);
  });
});

describe('postLanguage', () => {
  it('takes a declared language for everything', () => {
    expect(postLanguage('en', chinese, 'zh-CN')).toEqual({ text: 'en', labels: 'en' });
    expect(postLanguage('zh_TW', english, 'en')).toEqual({ text: 'zh-TW', labels: 'zh-TW' });
  });

  it("detects an English post in a Chinese newsletter, labels staying the newsletter's", () => {
    expect(postLanguage(undefined, english, 'zh-CN')).toEqual({ text: 'en', labels: 'zh-CN' });
  });

  it("keeps the newsletter's full tag when the post is in its language", () => {
    expect(postLanguage(undefined, chinese, 'zh-CN').text).toBe('zh-CN');
    expect(postLanguage(undefined, english, 'en-GB').text).toBe('en-GB');
  });

  it('detects a Chinese post in an English newsletter', () => {
    expect(postLanguage(undefined, chinese, 'en')).toEqual({ text: 'zh', labels: 'en' });
  });

  it('ignores a declared language no one can read, and detects instead', () => {
    expect(postLanguage('中文', chinese, 'en')).toEqual({ text: 'zh', labels: 'en' });
  });
});
