import { describe, expect, it } from 'vitest';
import { compactDeclarations, compactHtml, compactStyleSheet } from '../../src/render/compact-html.ts';
import { PLACEHOLDERS } from '../../src/render/placeholders.ts';

describe('compactHtml', () => {
  it('shortens each run of whitespace to one character, a newline when the run had one', () => {
    expect(compactHtml('<div>\n    <p>Hello   world,\t\tagain</p>\n\n  </div>')).toBe('<div>\n<p>Hello world, again</p>\n</div>');
  });

  it('keeps a space between inline elements, where it is visible', () => {
    expect(compactHtml('<em>one</em>   <strong>two</strong>')).toBe('<em>one</em> <strong>two</strong>');
  });

  it('keeps every character of a pre block, tabs, blank lines and indentation included', () => {
    const code = 'fn main() {\n\n\tlet  x = 1;   // two  spaces\n    if x < 2 { }\n}\n';
    const html = `<p>a  b</p>\n  <pre style="margin: 0 0 16px; padding: 12px;"><code class="language-rust">${code}</code></pre>  <p>c</p>`;
    expect(compactHtml(html)).toBe(`<p>a b</p>\n<pre style="margin:0 0 16px;padding:12px"><code class="language-rust">${code}</code></pre> <p>c</p>`);
  });

  it('drops comments but keeps the conditional comments Outlook reads as markup', () => {
    const html = [
      '<!-- layout note -->',
      '<!--[if mso | IE]><table   role="presentation"><tr><td><![endif]-->',
      '<div>x</div>',
      '<!--[if !mso]><!--><meta name="a"><!--<![endif]-->',
    ].join('\n');
    expect(compactHtml(html)).toBe(
      '\n<!--[if mso | IE]><table role="presentation"><tr><td><![endif]-->\n<div>x</div>\n<!--[if !mso]><!--><meta name="a"><!--<![endif]-->',
    );
  });

  it('treats the text around a dropped comment as one run', () => {
    expect(compactHtml('a  <!-- x -->  b')).toBe('a b');
    expect(compactHtml('a<!-- x -->b')).toBe('ab');
  });

  it('leaves attribute values alone, a > inside one and the delivery placeholders included', () => {
    const html = `<a   href="${PLACEHOLDERS.unsubscribeUrl}"  title="a > b  c" >x</a><img src='${PLACEHOLDERS.viewInBrowserUrl}' alt="1  2" />`;
    expect(compactHtml(html)).toBe(`<a href="${PLACEHOLDERS.unsubscribeUrl}" title="a > b  c">x</a><img src='${PLACEHOLDERS.viewInBrowserUrl}' alt="1  2"/>`);
  });

  it('compacts style blocks', () => {
    const html =
      '<style type="text/css">\n  /* why */\n  .a p, .b { margin: 0 0 16px; color: #111; }\n  @media (prefers-color-scheme: dark) {\n    .a > div { color: #fff !important; }\n  }\n</style>';
    expect(compactHtml(html)).toBe(
      '<style type="text/css">.a p,.b{margin:0 0 16px;color:#111}@media (prefers-color-scheme:dark){.a>div{color:#fff !important}}</style>',
    );
  });

  it('is idempotent', () => {
    const html = '<div>\n  <p style="margin: 0 ;">a  b</p>\n  <pre>  x  </pre>\n</div>';
    expect(compactHtml(compactHtml(html))).toBe(compactHtml(html));
  });
});

describe('compactDeclarations', () => {
  it('drops the spaces around colons and semicolons and the last semicolon', () => {
    expect(compactDeclarations('color: #0b63ce; text-decoration: underline;')).toBe('color:#0b63ce;text-decoration:underline');
  });

  it('does not split inside parentheses or quotes', () => {
    const css = 'background-image: url(data:image/png;base64,AAAA); font-family: \'A;B\', serif ;  content: "x: y"';
    expect(compactDeclarations(css)).toBe('background-image:url(data:image/png;base64,AAAA);font-family:\'A;B\', serif;content:"x: y"');
  });
});

describe('compactStyleSheet', () => {
  it('keeps the space that separates a descendant selector from a pseudo-class', () => {
    expect(compactStyleSheet('.a :first-child { margin: 0; }')).toBe('.a :first-child{margin:0}');
  });
});
