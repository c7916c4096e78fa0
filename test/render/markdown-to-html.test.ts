import { describe, expect, it } from 'vitest';
import { markdownToHtml } from '../../src/render/markdown-to-html.ts';
import { maskUnmatchedBackticks } from '../../src/render/unmatched-backticks.ts';

const render = (markdown: string, lineBreaks = true) => markdownToHtml(markdown, { baseUrl: 'https://site.example', firstLine: 10, lineBreaks });

describe('markdownToHtml', () => {
  it('closes ** that CommonMark leaves open next to CJK punctuation or a trailing space', () => {
    const { html } = render('**官网: **[https://x.example](https://x.example/)\n**3、@温明磊 **提问：\n\n**筛选：**中文');
    expect(html).not.toContain('**');
    expect(html).toContain('<strong>官网:</strong> <a href="https://x.example/">');
    expect(html).toContain('<strong>3、@温明磊</strong>');
    expect(html).toContain('<strong>筛选：</strong>中文');
  });

  it('makes the rest of the line bold after a ** nothing closes, and says on which line', () => {
    const source = '**SOFA 问答**\n**同步开源进展，欢迎互动\n\n- **未闭合的条目\n\n[链接](https://x.example/)**紧跟链接\n\nline **open words  \n\n`**code`';
    const { html, warnings } = render(source);
    expect(html).not.toMatch(/\*\*(?!code)/);
    expect(html).toContain('<strong>同步开源进展，欢迎互动</strong>');
    expect(html).toContain('<strong>未闭合的条目</strong>');
    expect(html).toContain('</a><strong>紧跟链接</strong>');
    expect(html).toContain('line <strong>open words</strong>');
    expect(html).toContain('<code>**code</code>');
    expect(warnings.filter((w) => w.code === 'EMPHASIS_UNCLOSED').map((w) => w.line)).toEqual([11, 13, 15, 17]);
  });

  it('leaves ** pairs to the pair rule and lone ** followed by a space as text', () => {
    const { html, warnings } = render('a ** b and 2 ** 3\n\n**一对**与**另一对**');
    expect(html).toContain('a ** b and 2 ** 3');
    expect(html).toContain('<strong>一对</strong>与<strong>另一对</strong>');
    expect(warnings.filter((w) => w.code === 'EMPHASIS_UNCLOSED')).toEqual([]);
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

describe('links whose text holds a backtick that opens no code span (CommonMark: a literal backtick)', () => {
  it.each([
    ['[`impl (Partial)Ord for Cell<T>](https://x.example/1)', 'https://x.example/1', '`impl (Partial)Ord for Cell&lt;T&gt;'],
    ['see [``Vec::push` fast path](https://x.example/2) today', 'https://x.example/2', '``Vec::push` fast path'],
    ['* [`Iterator::try_fold for Chain<A, B>](https://x.example/3)', 'https://x.example/3', '`Iterator::try_fold for Chain&lt;A, B&gt;'],
    ['> [fix the ` in paths](https://x.example/4 "title")', 'https://x.example/4', 'fix the ` in paths'],
  ])('%s is a link, with the backtick shown', (markdown, href, text) => {
    const { html } = render(markdown, false);
    expect(html).toContain(`<a href="${href}"`);
    expect(html).toContain(`>${text}</a>`);
    expect(html).not.toContain('](');
  });

  it('makes reference links and images the same way', () => {
    const { html } = render('[`impl Default for HashMap<K>][ref]\n\n![a ` chart](https://x.example/c.png)\n\n[ref]: https://x.example/r', false);
    expect(html).toContain('<a href="https://x.example/r">`impl Default for HashMap&lt;K&gt;</a>');
    expect(html).toContain('<img src="https://x.example/c.png" alt="a ` chart" />');
  });

  it('makes the link when the backtick would otherwise close a code span after it', () => {
    const { html } = render('* [`Iterator::try_fold for Chain<A, B>](https://x.example/7) and `Option` docs, [`b](https://x.example/8)', false);
    expect(html).toContain(
      '<a href="https://x.example/7">`Iterator::try_fold for Chain&lt;A, B&gt;</a> and <code>Option</code> docs, <a href="https://x.example/8">`b</a>',
    );
  });

  it('still reads backticks that do close as code spans, inside and after the link', () => {
    const { html } = render('[`Vec<T>` is `fast`](https://x.example/5) and `Option` [`a](https://x.example/6)', false);
    expect(html).toContain('<a href="https://x.example/5"><code>Vec&lt;T&gt;</code> is <code>fast</code></a>');
    expect(html).toContain('<code>Option</code> <a href="https://x.example/6">`a</a>');
  });
});

describe('a link closed with "]" instead of ")"', () => {
  it.each([
    ['See the [full report](https://x.example/r.md] for details.', '<a href="https://x.example/r.md">full report</a> for details.'],
    ['* [a](https://x.example/a] and [b](https://x.example/b)', '<a href="https://x.example/a">a</a> and <a href="https://x.example/b">b</a>'],
    ['![chart](https://x.example/c.png]', '<img src="https://x.example/c.png" alt="chart" />'],
  ])('%s is made as meant, and the author is told with the line', (markdown, shown) => {
    const { html, warnings } = render(`intro\n\n${markdown}`, false);
    expect(html).toContain(shown);
    expect(html).not.toContain('](');
    expect(warnings.map((w) => [w.code, w.line])).toEqual([['LINK_MISCLOSED', 12]]);
  });

  it('leaves alone what is no link target: a bracket inside a URL, no URL at all', () => {
    expect(render('[a](https://x.example/a](https://x.example/b)', false).warnings.map((w) => w.code)).not.toContain('LINK_MISCLOSED');
    expect(render('[a](not a url] b', false).html).toContain('[a](not a url] b');
  });
});

describe('maskUnmatchedBackticks', () => {
  it('masks only the runs that no run of the same length closes, and skips escaped ones', () => {
    expect(maskUnmatchedBackticks('[`a](u)')).toBe('[\uE000a](u)');
    expect(maskUnmatchedBackticks('[`a` b](u)')).toBeUndefined();
    expect(maskUnmatchedBackticks('[``a` b`](u)')).toBe('[\uE000\uE000a` b`](u)');
    expect(maskUnmatchedBackticks('[\\`a](u)')).toBeUndefined();
    // Past the end of the link text nothing is masked.
    expect(maskUnmatchedBackticks('[a](u) `b')).toBeUndefined();
  });

  it('masks a run whose closing run lies past the `](` that ends the link text, not one closed inside it', () => {
    expect(maskUnmatchedBackticks('[`a](u) and `b`')).toBe('[\uE000a](u) and `b`');
    expect(maskUnmatchedBackticks('[see `a[0](1)` here](u) `b`')).toBeUndefined();
  });
});

const COLLIDING_NAMES = ['A', 'B', 'I', 'S', 'U', 'Option', 'Select', 'Head', 'Title', 'Input', 'Output', 'Data', 'Map', 'Object', 'Table', 'Link', 'Style'];

describe('text that looks like a tag but was not written as HTML', () => {
  it.each(COLLIDING_NAMES)('Type<%s> shows as written, and the words after it stay', (name) => {
    const markdown = `Tracking Type<${name}> and more words\n\n# Head Type<${name}> too\n\n* [item Type<${name}>](https://x.example/i) tail\n\n| Type<${name}> | b |\n|---|---|\n| c | Type<${name}> end |`;
    const { html, warnings } = render(markdown, false);
    const shown = `Type&lt;${name}&gt;`;
    expect(html).toContain(`<p>Tracking ${shown} and more words</p>`);
    expect(html).toContain(`<h1>Head ${shown} too</h1>`);
    expect(html).toContain(`<a href="https://x.example/i">item ${shown}</a> tail`);
    expect(html).toContain(`<th>${shown}</th>`);
    expect(html).toContain(`<td>c</td>\n<td>${shown} end</td>`);
    expect(html.match(/<a\b/g)).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('shows tag-like words inside raw HTML blocks as written too', () => {
    const { html } = render('<table><tr><td>Cell of Result<Option> here</td><td>Vec<A></td></tr></table>', false);
    expect(html).toContain('<td>Cell of Result&lt;Option&gt; here</td><td>Vec&lt;A&gt;</td>');
  });

  it('keeps the words of elements the sanitizer drops', () => {
    const { html } = render('pick <option>one</option>, name <title>the page</title>, type <textarea>here</textarea>', false);
    expect(html).toContain('pick one, name the page, type here');
  });

  it('keeps the raw HTML authors write: breaks, links, images, emphasis, centring, colour, tables', () => {
    const { html } = render(
      'a<br />b <a href="https://x.example/r">raw</a> <img src="https://x.example/i.png" alt="i"> <strong>s</strong> <center>c</center> <font color="red">f</font>\n\n<table><tr><td>x</td></tr></table>',
      false,
    );
    expect(html).toContain('a<br />b <a href="https://x.example/r">raw</a> <img src="https://x.example/i.png" alt="i" /> <strong>s</strong>');
    expect(html).toContain('<center>c</center> <font color="red">f</font>');
    expect(html).toContain('<table><tr><td>x</td></tr></table>');
  });

  it('keeps old upper-case HTML that carries attributes or is void', () => {
    const { html } = render('<A HREF="https://x.example/old">old link</A> then<BR>next <FONT COLOR="red">red</FONT>', false);
    expect(html).toContain('<a href="https://x.example/old">old link</a> then<br />next <font color="red">red</font>');
  });

  it('still removes unsafe HTML in any case and warns, without taking type names for it', () => {
    const { html, warnings } = render(
      '<SCRIPT>alert(1)</SCRIPT>\n\n<style>p{}</style>\n\nResult<Object> and Option<Style> stay\n\n<object data="x">y</object>',
      false,
    );
    expect(html).not.toMatch(/alert|p\{\}|<script|<style|<object/i);
    expect(html).toContain('Result&lt;Object&gt; and Option&lt;Style&gt; stay');
    expect(warnings.map((w) => [w.code, w.line])).toEqual([
      ['HTML_REMOVED', 10],
      ['HTML_REMOVED', 12],
      ['HTML_REMOVED', 16],
    ]);
  });
});

describe('a <br> the author typed at the end of a line', () => {
  it.each(['<br />', '<br/>', '<br>', '<BR>', '<br />  ', '<br> \t'])('"a%s" + newline is one break, with and without line breaks', (tag) => {
    for (const lineBreaks of [true, false]) {
      const { html } = render(`第一行${tag}\n第二行`, lineBreaks);
      expect(html.match(/<br \/>/g), `lineBreaks: ${lineBreaks}`).toHaveLength(1);
      expect(html).toContain('第二行');
    }
  });

  it('is one break in list items, quotes and table cells too', () => {
    const { html } = render('- 一<br />\n  续\n- 二<br>\n  续\n\n> 引<br/>\n> 续\n\n| a | b |\n|---|---|\n| 高<br>飞 | c |');
    expect(html).toContain('<li>一<br />\n续</li>');
    expect(html).toContain('<li>二<br />\n续</li>');
    expect(html).toContain('<p>引<br />\n续</p>');
    expect(html).toContain('<td>高<br />飞</td>');
  });

  it('leaves the empty line the author wrote with two breaks', () => {
    expect(render('一<br /><br />\n二').html.match(/<br \/>/g)).toHaveLength(2);
    expect(render('一\n<br />\n二').html.match(/<br \/>/g)).toHaveLength(2);
  });
});

describe('table column alignment', () => {
  it('goes inline on every cell of an aligned column, and unaligned columns get none', () => {
    const { html } = render('| c | l | r | n |\n|:-:|:--|--:|---|\n| 1 | 2 | 3 | 4 |', false);
    expect(html).toContain('<th align="center" style="text-align:center">c</th>');
    expect(html).toContain('<th align="left" style="text-align:left">l</th>');
    expect(html).toContain('<td align="right" style="text-align:right">3</td>');
    expect(html).toContain('<th>n</th>');
    expect(html).toContain('<td>4</td>');
  });

  it('lets no other style through a cell of raw HTML', () => {
    const { html } = render(
      '<table><tr><td style="text-align:center;color:red;background:url(x)">a</td><td style="text-align:justify">b</td></tr></table>',
      false,
    );
    expect(html).toContain('<td style="text-align:center">a</td><td>b</td>');
  });
});
