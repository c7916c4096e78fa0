import { describe, expect, it } from 'vitest';
import { markdownToHtml } from '../../src/render/markdown-to-html.ts';

const render = (markdown: string, lineBreaks = true) => markdownToHtml(markdown, { baseUrl: 'https://site.example', firstLine: 10, lineBreaks });

describe('markdownToHtml', () => {
  it('closes ** that CommonMark leaves open next to CJK punctuation or a trailing space', () => {
    const { html } = render('**官网: **[https://x.example](https://x.example/)\n**3、@温明磊 **提问：\n\n**筛选：**中文');
    expect(html).not.toContain('**');
    expect(html).toContain('<strong>官网:</strong> <a href="https://x.example/">');
    expect(html).toContain('<strong>3、@温明磊</strong>');
    expect(html).toContain('<strong>筛选：</strong>中文');
  });

  it('shows tag-like words as written instead of swallowing them', () => {
    const { html } = render('加上<attach>true</attach>配置，<SOFA:RPCLab/> 和 Vec<T>。');
    expect(html).toContain('&lt;attach&gt;true&lt;/attach&gt;');
    expect(html).toContain('&lt;SOFA:RPCLab/&gt;');
    expect(html).toContain('Vec&lt;T&gt;');
  });

  it('makes site-relative links and images absolute', () => {
    const { html } = render('[post](/blog/x/) ![pic](/img/a.png)');
    expect(html).toContain('href="https://site.example/blog/x/"');
    expect(html).toContain('src="https://site.example/img/a.png"');
  });

  it('keeps the text of links a mail client cannot follow and warns with the line', () => {
    const { html, warnings } = render('intro\n\n[钉钉](dingtalk://x) [文档](hhttps://docs.example) [空]()');
    expect(html).toContain('钉钉');
    expect(html).not.toMatch(/dingtalk:|hhttps:/);
    const unfollowable = warnings.filter((w) => w.code === 'LINK_UNFOLLOWABLE');
    expect(unfollowable).toHaveLength(3);
    expect(unfollowable.every((w) => w.line === 12)).toBe(true);
  });

  it('removes scripts, frames, styles, event handlers and javascript: URLs', () => {
    const { html, warnings } = render(
      '<script>alert(1)</script>\n\n<img src="https://a.example/x.png" alt="x" onerror="alert(2)">\n<a href="javascript:alert(3)">go</a>\n\n<iframe src="https://evil.example"></iframe>\n\n<style>p{}</style>',
    );
    expect(html).not.toMatch(/<script|<iframe|<style|onerror|javascript:|alert/i);
    expect(html).toContain('src="https://a.example/x.png"');
    expect(warnings.some((w) => w.code === 'HTML_REMOVED')).toBe(true);
  });

  it('warns about images without alt text, http URLs and data: images', () => {
    const { warnings } = render('![](https://a.example/x.png) [x](http://plain.example) ![d](data:image/gif;base64,R0lGOD)');
    const codes = warnings.map((w) => w.code).sort();
    expect(codes).toEqual(['IMAGE_ALT_MISSING', 'IMAGE_DATA_URI', 'LINK_INSECURE']);
  });

  it('wraps tables so they scroll inside their own block', () => {
    const { html } = render('| a | b |\n| - | - |\n| 1 | 2 |');
    expect(html).toMatch(/<div class="nl-table"><table>/);
  });

  it('keeps code blocks as code, escaped', () => {
    const { html } = render('```bash\n<dependency>\n  <groupId>x</groupId>\n</dependency>\n```');
    expect(html).toContain('<pre><code>&lt;dependency&gt;');
  });

  it('breaks lines where CJK writers broke them, and joins hard-wrapped English', () => {
    expect(render('第一行\n第二行').html).toContain('第一行<br />第二行');
    expect(render('one line\nwrapped', false).html).toContain('one line\nwrapped');
  });

  it('keeps ordered list numbering', () => {
    expect(render('3. c\n4. d').html).toContain('<ol start="3">');
  });
});
