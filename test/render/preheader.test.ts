import { describe, expect, it } from 'vitest';
import { cutPreview, preheaderFromDescription, preheaderFromHtml } from '../../src/render/preheader.ts';

const length = (text: string) => [...text].length;

describe('preheaderFromHtml keeps only readable words', () => {
  it.each([
    ['a link keeps its words, not its URL', '<p>Rust <a href="https://www.rust-lang.org/">is a language</a> for all.</p>', 'Rust is a language for all.'],
    [
      'a link whose text is its URL disappears',
      '<p><strong>官网:</strong> <em><a href="https://www.sofastack.tech">https://www.sofastack.tech</a></em></p><p>下一段。</p>',
      '官网 · 下一段。',
    ],
    ['an image is left out', '<p><img src="https://x.org/a.png" alt="图片"></p><p>正文开始。</p>', '正文开始。'],
    ['a heading is set off from what follows', '<h2>SOFA WEEKLY | 每周精选</h2><p>筛选每周精华问答。</p>', 'SOFA WEEKLY | 每周精选 · 筛选每周精华问答。'],
    ['list items lose their markers', '<ul><li>First thing</li><li>Second thing</li></ul>', 'First thing · Second thing'],
    ['a numbered list loses its numbers', '<ol><li>Step one.</li><li>Step two.</li></ol>', 'Step one. Step two.'],
    ['a quote loses its >', '<blockquote><p>Quoted words.</p></blockquote><p>After.</p>', 'Quoted words. After.'],
    ['a code block is left out, inline code kept', '<p>Use <code>Vec::new</code> here.</p><pre><code>fn main() {}</code></pre>', 'Use Vec::new here.'],
    ['a table is left out', '<table><tr><td>a</td><td>b</td></tr></table><p>Text.</p>', 'Text.'],
    ['entities are decoded', '<p>Fish &amp; chips &lt;3 for <code>Vec&lt;T&gt;</code></p>', 'Fish & chips <3 for Vec<T>'],
    [
      'Markdown the parser left as text is cleaned',
      '<p>**提问：**中文 [`impl Ord`](https://x.org/1) and ![a](b.png) `code`</p>',
      '提问：中文 impl Ord and code',
    ],
    ['a bare URL in prose goes', '<p>Read more at https://example.org/page or www.example.org today.</p>', 'Read more at or today.'],
    [
      'literal Markdown markers at the start go',
      '<p>## Heading as text</p><p>&gt; quoted</p><p>- item</p><p>1、第一</p>',
      'Heading as text · quoted · item · 第一',
    ],
    ['nothing readable gives nothing', '<p><img src="https://x.org/a.png" alt="x"></p>', ''],
  ])('%s', (_name, html, expected) => {
    expect(preheaderFromHtml(html)).toBe(expected);
  });
});

describe('cutPreview', () => {
  const english =
    'Hello and welcome to another issue of This Week in Rust! Rust is a programming language empowering everyone to build reliable and efficient software.';

  it('keeps a short text as it is', () => {
    expect(cutPreview('Short and sweet.')).toBe('Short and sweet.');
  });

  it('cuts English between words, with an ellipsis, within 140 characters', () => {
    const cut = cutPreview(english);
    expect(length(cut)).toBeLessThanOrEqual(140);
    expect(cut).toMatch(/ efficient…$/);
    expect(english.startsWith(cut.slice(0, -1))).toBe(true);
  });

  it('prefers a sentence end after 90 characters, without an ellipsis', () => {
    const text = `${'word '.repeat(20)}ends here. ${'more '.repeat(30)}`;
    expect(cutPreview(text)).toBe(`${'word '.repeat(20)}ends here.`);
  });

  it('stops at a Chinese sentence end after 90 characters, though no space follows it', () => {
    const first = `${'本周发布了新版本'.repeat(12)}。`;
    expect(cutPreview(`${first}${'欢迎大家升级'.repeat(10)}`)).toBe(first);
  });

  it('does not take a dot inside a version number for a sentence end', () => {
    const text = `${'word '.repeat(19)}version 5.5.8 ${'more words '.repeat(10)}`;
    expect(cutPreview(text)).toMatch(/…$/);
  });

  it('does not stop at a sentence end before 90 characters', () => {
    const text = `Short one. ${'longer words follow '.repeat(10)}`;
    expect(length(cutPreview(text))).toBeGreaterThan(90);
  });

  it('cuts Chinese between characters', () => {
    const chinese =
      'SOFAStack（Scalable Open Financial Architecture Stack）是蚂蚁集团自主研发的金融级云原生架构，包含了构建金融级云原生架构所需的各个组件，包括微服务研发框架，RPC 框架，服务注册中心，分布式定时任务，限流/熔断框架，动态配置推送，分布式链路追踪';
    const cut = cutPreview(chinese);
    expect(length(cut)).toBe(140);
    expect(cut.endsWith('…')).toBe(true);
    expect(chinese.startsWith(cut.slice(0, -1))).toBe(true);
  });

  it('drops a comma or colon before the ellipsis', () => {
    const text = `${'alpha beta gamma delta, '.repeat(5)}epsilon: ${'zeta eta '.repeat(10)}`;
    expect(cutPreview(text)).not.toMatch(/[,:] ?…$/);
  });

  it('counts an emoji as one character and never splits it', () => {
    const text = `${'🦀 crab '.repeat(30)}`;
    const cut = cutPreview(text);
    expect(length(cut)).toBeLessThanOrEqual(140);
    expect(cut).not.toMatch(/[\uD800-\uDBFF]…$/);
  });

  it('cuts a single endless word at the limit', () => {
    expect(length(cutPreview('x'.repeat(500)))).toBe(140);
  });
});

describe('preheaderFromDescription', () => {
  it('cleans a description like the body: entities, Markdown, URLs', () => {
    expect(preheaderFromDescription('SOFA &amp; friends: **new** release, see https://x.org/y')).toBe('SOFA & friends: new release, see');
  });

  it('joins a multi-line description into one line, as the prose it is', () => {
    expect(preheaderFromDescription('First line\nsecond line.')).toBe('First line second line.');
  });

  it('is empty when the description is only a link', () => {
    expect(preheaderFromDescription('https://example.org/only-a-link')).toBe('');
  });
});
