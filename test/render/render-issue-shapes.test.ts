import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../src/config.ts';
import { parsePost } from '../../src/render/parse-post.ts';
import { renderIssue } from '../../src/render/render-issue.ts';
import { loadTemplates } from '../../src/render/templates.ts';
import {
  expectNoDoubledBreaks,
  expectNoVisibleLinkSyntax,
  expectReadableSafeEmail,
  expectTableAlignmentKept,
  expectTagLikeTextVisible,
} from './email-properties.ts';

const identity: Identity = {
  name: 'Demo Weekly',
  fromAddress: 'weekly@demo.example.org',
  siteUrl: 'https://demo.example.org',
  postalAddress: '1 Example Street, Example City',
  language: 'en',
  reason: 'You get this because you subscribed to Demo Weekly.',
  listId: 'weekly.demo.example.org',
};
const templates = loadTemplates();

async function renderFixture(name: string, language: string) {
  const file = fileURLToPath(new URL(`../fixtures/posts/${name}`, import.meta.url));
  const source = readFileSync(file, 'utf8');
  return { issue: await renderIssue(parsePost(source, file), { identity: { ...identity, language }, templates }), source };
}

/** The opening tags of the cells in one column of the first Markdown table of the email. */
function columnCells(html: string, column: number): string[] {
  const table = /class="nl-table"[^>]*>\s*<table[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
  return (table.match(/<tr\b[\s\S]*?<\/tr>/g) ?? []).map((row) => row.match(/<t[hd]\b[^>]*>/g)![column]!);
}

describe('renderIssue on a post that writes Rust types, backticks in link text and aligned tables', () => {
  const rendered = renderFixture('type-names.md', 'en');

  it('keeps every type name, makes every link, keeps every column alignment', async () => {
    const { issue, source } = await rendered;
    expectReadableSafeEmail(issue, source);
    expectNoVisibleLinkSyntax(issue);
    expectTagLikeTextVisible(issue, source);
    expectTableAlignmentKept(issue, source);
    expect(issue.html).toContain('Tracking Issue for\nResult&lt;Option&gt; and Option&lt;Result&gt; Conversion');
    expect(issue.html).toContain('>`impl (Partial)Ord for Cell&lt;T&gt;</a>');
  });

  it('centres the cells of a centred column in the final HTML, over the stylesheet, and keeps unaligned ones left', async () => {
    const { issue } = await rendered;
    const lastTextAlign = (cell: string) => [...cell.matchAll(/text-align:\s*([a-z]+)/g)].at(-1)?.[1];
    const centred = columnCells(issue.html, 0);
    expect(centred).toHaveLength(3);
    for (const cell of centred) expect(lastTextAlign(cell), cell).toBe('center');
    for (const cell of columnCells(issue.html, 2)) expect(lastTextAlign(cell), cell).toBe('right');
    // A body cell without a text-align of its own inherits the body text's left alignment; a
    // header cell (centred by default) is given it.
    for (const cell of columnCells(issue.html, 3)) expect(lastTextAlign(cell) ?? (cell.startsWith('<td') ? 'left' : undefined), cell).toBe('left');
  });

  it('keeps the raw HTML the author meant', async () => {
    const { issue } = await rendered;
    expect(issue.html).toContain('<a href="https://example.org/raw"');
    expect(issue.html).toContain('<a href="https://example.org/old"');
    expect(issue.html).toMatch(/<center[^>]*>centred<\/center>/);
    expect(issue.html).toMatch(/<font color="#c00"[^>]*>red<\/font>/);
    expect(issue.text).toMatch(/Result<Option>\s+and\s+Option<Result>\s+Conversion/);
    expect(issue.text).toMatch(/impl\s+FromIterator<A>\s+for\s+Box<str>/);
  });
});

describe('renderIssue on a Chinese post that types <br /> at line ends', () => {
  it('shows one break per line end, and the empty line the author wrote', async () => {
    const { issue, source } = await renderFixture('cjk-breaks.md', 'zh-CN');
    expectReadableSafeEmail(issue, source);
    expectNoDoubledBreaks(issue, source);
    expectTableAlignmentKept(issue, source);
    expect(issue.html).toMatch(/作者写了两个换行<br\s*\/?><br\s*\/?>\s*所以这里有一个空行/);
    expect(issue.html).toMatch(/第一行写完换行<br\s*\/?>\s*第二行<br\s*\/?>\s*第三行<br\s*\/?>\s*第四行/);
  });
});
