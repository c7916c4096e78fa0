import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../helpers/run-cli.ts';

const seed = join(REPO, 'emails', 'posts', 'sofa-weekly-2019-11-01.md');

const newsletter = (args: string[]) => runCli(args, { env: {} });

const tempDir = () => mkdtempSync(join(tmpdir(), 'newsletter-render-'));

describe('newsletter render', () => {
  it('writes <slug>.html, .txt and .mjml and prints the summary as JSON', async () => {
    const out = tempDir();
    const result = await newsletter(['render', seed, '--out', out, '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(Object.keys(summary)).toEqual(['file', 'slug', 'subject', 'preheader', 'htmlBytes', 'textBytes', 'warnings']);
    expect(summary.file).toBe(seed);
    expect(summary.slug).toBe('sofa-weekly-2019-11-01');
    expect(summary.subject).toBe('SOFA Weekly | 每周精选【10/28 - 11/01】');
    expect(readdirSync(out).sort()).toEqual(['sofa-weekly-2019-11-01.html', 'sofa-weekly-2019-11-01.mjml', 'sofa-weekly-2019-11-01.txt']);
    expect(summary.htmlBytes).toBe(Buffer.byteLength(readFileSync(join(out, 'sofa-weekly-2019-11-01.html'))));
    expect(summary.textBytes).toBe(Buffer.byteLength(readFileSync(join(out, 'sofa-weekly-2019-11-01.txt'))));
  });

  it('takes the slug from the folder for index.md and reports warnings with lines, still exiting 0', async () => {
    const out = tempDir();
    const post = fileURLToPath(new URL('../fixtures/posts/qa-weekly/index.md', import.meta.url));
    const result = await newsletter(['render', post, '--out', out, '--json', '--base-url', 'https://demo.example.org']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.slug).toBe('qa-weekly');
    expect(summary.warnings.length).toBeGreaterThan(3);
    for (const warning of summary.warnings) expect(Object.keys(warning)).toEqual(['code', 'message', 'line']);
    expect(readFileSync(join(out, 'qa-weekly.html'), 'utf8')).toContain('https://demo.example.org/blog/logo/');
  });

  const failures: [string, string, RegExp][] = [
    ['malformed YAML', '---\ntitle: ok\ntags: [a, b\n---\nbody\n', /bad\.md:\d+: front matter is not valid YAML.*\[POST_FRONT_MATTER_INVALID\]/],
    ['no title', '---\nauthor: me\n---\nbody\n', /bad\.md:1: title: the post has no title.*\[POST_TITLE_MISSING\]/],
  ];
  it.each(failures)('exits 1 with one line naming file and line on %s, writing nothing', async (_case, source, message) => {
    const dir = tempDir();
    const file = join(dir, 'bad.md');
    writeFileSync(file, source);
    const out = join(dir, 'out');
    const result = await newsletter(['render', file, '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 1 naming the file when it cannot be read', async () => {
    const result = await newsletter(['render', '/nonexistent/post.md']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('newsletter: /nonexistent/post.md: no such file [POST_UNREADABLE]');
  });

  it('ends stdout with the count when the only post cannot be rendered', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.md'), '---\nauthor: me\n---\nbody\n');
    const result = await newsletter(['render', join(dir, 'bad.md'), '--out', join(dir, 'out')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('0 rendered, 1 failed\n');
  });

  it('has --help on the command', async () => {
    const result = await newsletter(['render', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--base-url');
  });
});

/** A post of its own title, so that which one was written can be told from the output. */
const post = (title: string) => `---\ntitle: ${title}\ndate: 2024-01-05\n---\n\nHello from ${title}.\n`;

/** A folder as an editor's site has one: posts at the top, posts in nested folders, and things that are not posts. */
function site(): string {
  const dir = tempDir();
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  cpSync(seed, join(dir, 'content', 'sofa-weekly-2019-11-01.md'));
  write('content/2024/first.md', post('First'));
  write('content/2024/deep/second/index.md', post('Second'));
  write('content/broken.md', '---\ntitle: ok\ntags: [a, b\n---\nbody\n');
  write('content/README.md', '# How to write a post\n');
  write('content/.drafts/draft.md', post('Draft'));
  write('content/node_modules/pkg/readme-ish.md', post('Dependency'));
  write('content/notes.txt', 'not a post');
  return dir;
}

describe('newsletter render with several posts and folders', () => {
  it('renders every post under a folder, nested ones too, and exits 1 after the rest naming the broken file and line', async () => {
    const dir = site();
    const out = join(dir, 'dist');
    const result = await newsletter(['render', join(dir, 'content'), '--out', out]);
    expect(result.code).toBe(1);
    expect(readdirSync(out).sort()).toEqual(['first', 'second', 'sofa-weekly-2019-11-01'].flatMap((slug) => [`${slug}.html`, `${slug}.mjml`, `${slug}.txt`]));
    expect(readFileSync(join(out, 'second.html'), 'utf8')).toContain('Hello from Second.');
    expect(result.stderr).toMatch(
      new RegExp(`^newsletter: ${escape(join(dir, 'content', 'broken.md'))}:4: front matter is not valid YAML.*\\[POST_FRONT_MATTER_INVALID\\]$`, 'm'),
    );
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(
      `${join(dir, 'content', '2024', 'deep', 'second', 'index.md')} -> ${join(out, 'second')}.html (${kb(out, 'second')} KB), ${join(out, 'second')}.txt, ${join(out, 'second')}.mjml; subject: Second`,
    );
    expect(lines.at(-1)).toBe('3 rendered, 1 failed');
    expect(result.stdout + result.stderr).not.toMatch(/Draft|Dependency|README|notes/);
  });

  it('prints one JSON object a line per post with --json, a failed post as {file, ok: false, code, message, line}', async () => {
    const dir = site();
    const content = join(dir, 'content');
    const result = await newsletter(['render', join(content, '2024'), join(content, 'broken.md'), '--out', join(dir, 'dist'), '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    const objects = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(objects.map((o) => o.file)).toEqual([
      join(content, '2024', 'deep', 'second', 'index.md'),
      join(content, '2024', 'first.md'),
      join(content, 'broken.md'),
    ]);
    expect(objects[1]).toMatchObject({ slug: 'first', subject: 'First', warnings: [] });
    expect(Object.keys(objects[1]!)).toEqual(['file', 'slug', 'subject', 'preheader', 'htmlBytes', 'textBytes', 'warnings']);
    expect(objects[2]).toEqual({
      file: join(content, 'broken.md'),
      ok: false,
      code: 'POST_FRONT_MATTER_INVALID',
      message: expect.stringContaining('not valid YAML'),
      line: 4,
    });
  });

  it('does not let two posts with the same slug overwrite each other: the second fails naming both', async () => {
    const dir = tempDir();
    for (const year of ['2023', '2024']) {
      mkdirSync(join(dir, year, 'weekly'), { recursive: true });
      writeFileSync(join(dir, year, 'weekly', 'index.md'), post(`Weekly ${year}`));
    }
    const out = join(dir, 'dist');
    const result = await newsletter(['render', join(dir, '2023'), join(dir, '2024'), '--out', out, '--json']);
    expect(result.code).toBe(1);
    const [first, second] = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toMatchObject({ slug: 'weekly', subject: 'Weekly 2023' });
    expect(second).toMatchObject({ file: join(dir, '2024', 'weekly', 'index.md'), ok: false, code: 'INPUT_INVALID' });
    expect(second!.message).toContain(join(dir, '2023', 'weekly', 'index.md'));
    expect(readFileSync(join(out, 'weekly.html'), 'utf8')).toContain('Weekly 2023');
  });

  it('renders a file named twice, or named and inside a folder named, once', async () => {
    const dir = site();
    const first = join(dir, 'content', '2024', 'first.md');
    const result = await newsletter(['render', first, first, join(dir, 'content', '2024'), '--out', join(dir, 'dist'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).file),
    ).toEqual([first, join(dir, 'content', '2024', 'deep', 'second', 'index.md')]);
  });

  it('exits 1 naming every path that does not exist or holds no post, and renders nothing', async () => {
    const dir = site();
    const out = join(dir, 'dist');
    const missing = join(dir, 'nope');
    const empty = join(dir, 'no-posts');
    mkdirSync(join(empty, '.drafts'), { recursive: true });
    writeFileSync(join(empty, 'README.md'), '# Not a post\n');
    writeFileSync(join(empty, '.drafts', 'draft.md'), post('Draft'));
    const result = await newsletter(['render', join(dir, 'content', '2024'), missing, empty, '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `newsletter: ${missing}: no such file [POST_UNREADABLE]`,
      expect.stringMatching(new RegExp(`^newsletter: ${escape(empty)}: no posts in this folder.*\\[INPUT_INVALID\\]$`)),
    ]);
    expect(existsSync(out)).toBe(false);
  });
  it('stops at the first post with one line naming --out when the output folder cannot be made', async () => {
    const dir = site();
    const notAFolder = join(dir, 'content', 'notes.txt');
    const result = await newsletter(['render', join(dir, 'content', '2024'), '--out', join(notAFolder, 'dist')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^newsletter: --out: cannot write into .*notes\.txt.*: ENOTDIR \[INPUT_INVALID\]$/),
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function kb(out: string, slug: string): string {
  return (readFileSync(join(out, `${slug}.html`)).length / 1024).toFixed(1);
}
