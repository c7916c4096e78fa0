/**
 * Bad posts. A post that cannot become an email is refused by `newsletter send` with the
 * file, line and field, exit 1, and no campaign (Redis exactly as before). Unsafe HTML in
 * a post that can become an email is removed and reported with its line instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.ts';
import { expectCliError, literal, openWorld, type World } from './harness.ts';

let world: World;
beforeAll(async () => {
  world = await openWorld('bad-posts');
});
afterAll(() => world?.close());

const ok = '---\ntitle: Fine\ndate: 2024-01-05\n---\n';

function fiveMegabytePost(): string {
  const paragraph = `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(20)}\n\n`;
  return ok + paragraph.repeat(Math.ceil((5 * 1024 * 1024) / paragraph.length));
}

interface RefusedPost {
  name: string;
  content: string | Buffer | (() => string | Buffer);
  code: ErrorCode;
  /** What follows `newsletter: <file>`: `:line: field: message`. */
  after: RegExp;
}

const refused: RefusedPost[] = [
  {
    name: 'broken YAML (a flow list never closed)',
    content: '---\ntitle: Fine\ndate: 2024-01-05\nauthor: [Ann, Bob\ncover: x.png\n---\nBody\n',
    code: 'POST_FRONT_MATTER_INVALID',
    after: /^:5: front matter is not valid YAML: missed comma between flow collection entries/,
  },
  {
    name: 'broken YAML (bad indentation)',
    content: '---\ntitle: Fine\n  date: 2024-01-05\n---\nBody\n',
    code: 'POST_FRONT_MATTER_INVALID',
    after: /^:3: front matter is not valid YAML: bad indentation of a mapping entry/,
  },
  {
    name: 'front matter opened with --- and never closed',
    content: '---\ntitle: Open\ndate: 2024-01-05\n\nThe body, with no closing line above it.\n',
    code: 'POST_FRONT_MATTER_INVALID',
    after: /^:1: front matter opened with --- is never closed/,
  },
  {
    name: 'front matter that is a list, not a map',
    content: '---\n- title\n- Fine\n---\nBody\n',
    code: 'POST_FRONT_MATTER_INVALID',
    after: /^:2: front matter must be a mapping of `key: value` lines/,
  },
  {
    name: 'no title',
    content: '---\ndate: 2024-01-05\nauthor: Ann\n---\nBody\n',
    code: 'POST_TITLE_MISSING',
    after: /^:1: title: the post has no title/,
  },
  {
    name: 'an empty title',
    content: '---\ndate: 2024-01-05\ntitle: "  "\n---\nBody\n',
    code: 'POST_TITLE_MISSING',
    after: /^:3: title: the post has no title/,
  },
  {
    name: 'an empty file',
    content: '',
    code: 'POST_TITLE_MISSING',
    after: /^:1: title: the post has no title/,
  },
  {
    name: 'a binary file',
    content: Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'), Buffer.alloc(2048, 0x00)]),
    code: 'POST_UNREADABLE',
    after: /^: not a text file \(it contains NUL bytes\): a post is Markdown saved as UTF-8 \[/,
  },
  {
    name: 'a post that is not UTF-8 (Latin-1)',
    content: Buffer.from("---\ntitle: Café\ndate: 2024-01-05\n---\nL'été est là.\n", 'latin1'),
    code: 'POST_UNREADABLE',
    after: /^:2: not valid UTF-8: save the post as UTF-8/,
  },
  {
    name: 'a 5 MB post',
    content: fiveMegabytePost,
    code: 'POST_TOO_LARGE',
    after: /^: the post is 5\.0 MB; a post may be at most 1 MB/,
  },
  {
    name: 'a date that does not exist',
    content: '---\ntitle: Fine\ndate: 2024-13-45\n---\nBody\n',
    code: 'POST_DATE_INVALID',
    after: /^:3: date: date "2024-13-45" is not a date like 2019-11-01/,
  },
  {
    name: 'a date that is words',
    content: '---\ntitle: Fine\ndate: next friday\n---\nBody\n',
    code: 'POST_DATE_INVALID',
    after: /^:3: date: date "next friday" is not a date/,
  },
];

describe('newsletter send refuses a post that cannot become an email, and creates no campaign', () => {
  it.each(refused)('$name', async ({ name, content, code, after }) => {
    const file = world.scratch.write(`${name.replace(/\W+/g, '-')}.md`, typeof content === 'function' ? content() : content);
    const before = await world.snapshot();
    const result = await world.cli(['send', file, '--list', 'weekly']);
    expectCliError(result, code, new RegExp(`^newsletter: ${literal(file)}${after.source.slice(1)}`));
    expect(await world.snapshot()).toEqual(before);
  });

  it('a post file that does not exist, or is a folder', async () => {
    const before = await world.snapshot();
    const missing = join(world.scratch.dir, 'no-such-post.md');
    expectCliError(await world.cli(['send', missing, '--list', 'weekly']), 'POST_UNREADABLE', new RegExp(`^newsletter: ${literal(missing)}: no such file`));
    expectCliError(
      await world.cli(['send', world.scratch.dir, '--list', 'weekly']),
      'POST_UNREADABLE',
      new RegExp(`^newsletter: ${literal(world.scratch.dir)}: cannot read the file`),
    );
    expect(await world.snapshot()).toEqual(before);
  });
});

describe('unsafe HTML and links in a post are removed, kept as text, and reported with their line', () => {
  const render = async (name: string, markdown: string) => {
    const file = world.scratch.write(name, ok + markdown);
    const out = join(world.scratch.dir, 'out');
    const result = await world.cli(['render', file, '--out', out, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const issue = JSON.parse(result.stdout) as { warnings: { code: string; message: string; line: number }[] };
    const slug = name.replace(/\.md$/, '');
    return { warnings: issue.warnings, html: readFileSync(join(out, `${slug}.html`), 'utf8'), text: readFileSync(join(out, `${slug}.txt`), 'utf8') };
  };

  it('a <script> block: no script in the HTML or the text, one HTML_REMOVED warning at its line', async () => {
    const { warnings, html, text } = await render('script.md', 'Hello.\n\n<script>alert("pwned")</script>\n\nAfter.\n');
    expect(html).not.toMatch(/<script/i);
    expect(html + text).not.toContain('pwned');
    expect(text).toContain('After.');
    expect(warnings).toEqual([{ code: 'HTML_REMOVED', message: expect.stringContaining('unsafe HTML'), line: 7 }]);
  });

  it('a Markdown javascript: link: the text stays, the target goes, LINK_UNFOLLOWABLE at its line', async () => {
    const { warnings, html, text } = await render('js-link.md', 'Line one.\n\nA [harmless looking link](javascript:alert(1)) here.\n');
    expect(html).not.toMatch(/javascript:/i);
    expect(html).toContain('harmless looking link');
    expect(text).toContain('A harmless looking link here.');
    expect(warnings).toEqual([{ code: 'LINK_UNFOLLOWABLE', message: expect.stringContaining('javascript:'), line: 7 }]);
  });

  it('raw HTML with a javascript: href, an onerror handler and an iframe: all removed, each line reported', async () => {
    const { warnings, html } = await render(
      'raw-html.md',
      'A <a href="JavaScript:alert(1)">raw link</a>.\n\n<img src="https://example.com/a.png" alt="a" onerror="alert(2)">\n\n<iframe src="https://evil.example/"></iframe>\n',
    );
    expect(html).not.toMatch(/javascript:|onerror|<iframe|evil\.example/i);
    expect(html).toContain('raw link');
    expect(html).toContain('src="https://example.com/a.png"');
    expect(warnings.map(({ code, line }) => `${line}:${code}`)).toEqual(['5:LINK_UNFOLLOWABLE', '7:HTML_REMOVED', '9:HTML_REMOVED']);
  });
});
