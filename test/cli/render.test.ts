import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
    expect(Object.keys(summary)).toEqual(['slug', 'subject', 'preheader', 'htmlBytes', 'textBytes', 'warnings']);
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

  it('has --help on the command', async () => {
    const result = await newsletter(['render', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--base-url');
  });
});
