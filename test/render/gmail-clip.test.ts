/**
 * A long weekly digest (hundreds of linked list items, inline code, a table, code blocks: the
 * shape of a large This Week in Rust issue) stays under Gmail's 102 KB clip, and compacting
 * the HTML changes no text a reader sees.
 */
import mjml2html from 'mjml';
import { decodeHTML } from 'entities';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/config.ts';
import type { Issue } from '../../src/render/issue.ts';
import { parsePost } from '../../src/render/parse-post.ts';
import { renderIssue } from '../../src/render/render-issue.ts';
import { loadTemplates } from '../../src/render/templates.ts';
import { expectCompactHtml, expectHiddenPreheader, expectUnderGmailClip } from './email-properties.ts';

const identity: Identity = {
  name: 'Digest Weekly',
  fromAddress: 'digest@example.org',
  siteUrl: 'https://digest.example.org',
  postalAddress: '1 Example Street, Example City',
  language: 'en',
  reason: 'You get this because you subscribed to Digest Weekly.',
  listId: 'digest.example.org',
};

/** About 121 KB of HTML with every element styled inline, as MJML's inliner used to write it. */
function longDigest(): string {
  const sections: string[] = [];
  for (let s = 1; s <= 6; s++) {
    sections.push(`## Section ${s}\n`);
    for (let i = 1; i <= 16; i++) {
      sections.push(
        `* [Item ${s}.${i}: how \`Vec::with_capacity\` and \`HashMap<K, V>\` behave](https://blog.example.org/${s}/${i}/a-fairly-long-article-slug) ` +
          `by [author ${i}](https://people.example.org/${i}) ([\`rust-lang/rust#${s}${i}\`](https://github.com/rust-lang/rust/pull/${s}${i}))`,
      );
    }
    sections.push('');
  }
  const table = [
    '| Crate | Before | After | Change |',
    '|:---:|:---:|:---:|:---:|',
    ...Array.from({ length: 20 }, (_, i) => `| crate-${i} | ${i}.0 ms | ${i}.5 ms | +${i}% |`),
  ];
  const code = '```rust\nfn main() {\n    let mut v = Vec::with_capacity(16);\n\tv.push(1);   // three spaces before\n}\n```';
  return `---\ntitle: "Digest 1"\ndate: 2026-11-25\n---\n\nHello and welcome to another digest!\n\n${sections.join('\n')}\n${table.join('\n')}\n\n${code}\n`;
}

/** What a reader sees: text with whitespace runs shown as one space, and each <pre> exactly. */
function visible(html: string): { text: string; pre: string[] } {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html)![1]!;
  const pre = [...body.matchAll(/<pre[\s>][\s\S]*?<\/pre>/gi)].map((m) => decodeHTML(m[0].replace(/<[^>]*>/g, '')));
  const text = decodeHTML(
    body
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/<pre[\s>][\s\S]*?<\/pre>/gi, ' PRE ')
      .replace(/<[^>]*>/g, ' '),
  )
    .replace(/\s+/g, ' ')
    .trim();
  return { text, pre };
}

let issue: Issue;
beforeAll(async () => {
  issue = await renderIssue(parsePost(longDigest(), 'digest-1.md'), { identity, templates: loadTemplates() });
});

describe('a long weekly digest', () => {
  it('fits under the clip with room to spare', () => {
    expectUnderGmailClip(issue);
    expect(Buffer.byteLength(issue.html)).toBeLessThan(80 * 1024);
    expect(issue.warnings.map((w) => w.code)).not.toContain('HTML_TOO_LARGE');
  });

  it('carries its styles in the head, not on each element, with no indentation or comments', () => {
    expectCompactHtml(issue);
    expectHiddenPreheader(issue);
  });

  it('shows the same text and the same code blocks as the uncompacted HTML', async () => {
    const uncompacted = (await mjml2html(issue.mjml, { validationLevel: 'soft', keepComments: false })).html;
    expect(Buffer.byteLength(uncompacted)).toBeGreaterThan(Buffer.byteLength(issue.html));
    const before = visible(uncompacted);
    const after = visible(issue.html);
    expect(after.pre).toEqual(before.pre);
    expect(after.pre[0]).toContain('\tv.push(1);   // three spaces before\n');
    expect(after.text).toBe(before.text);
  });
});
