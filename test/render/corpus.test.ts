import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig, type Identity } from '../../src/config.ts';
import { renderPostFile } from '../../src/render/render-post-file.ts';
import { expectEveryProperty, expectReadableSafeEmail } from './email-properties.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const corpusDir = join(repo, '..', 'shared', 'corpus');
const sofa = loadConfig({ cwd: repo, env: {} }).identity;
const rust: Identity = { ...sofa, name: 'This Week in Rust', siteUrl: 'https://this-week-in-rust.org', language: 'en' };

function postsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return postsUnder(path);
    return /\.(md|markdown)$/.test(name) && name !== 'README.md' ? [path] : [];
  });
}

const seed = join(repo, 'emails', 'posts', 'sofa-weekly-2019-11-01.md');
const fixturesDir = join(repo, 'test', 'fixtures', 'posts');

describe('the seed post', () => {
  it('renders into a readable, safe email with its own date and subject', async () => {
    const issue = await renderPostFile(seed, { identity: sofa });
    expectReadableSafeEmail(issue, readFileSync(seed, 'utf8'));
    expect(issue.subject).toBe('SOFA Weekly | 每周精选【10/28 - 11/01】');
    expect(issue.preheader).toBe('SOFA WEEKLY | 每周精选，筛选每周精华问答，同步开源进展，欢迎留言互动。');
    expect(issue.html).toContain('2019年11月1日');
    expect(issue.html).toContain('<strong>3、@温明磊</strong>');
    expect(issue.warnings).toEqual([]);
  });
});

describe('our own fixtures, the shapes real posts have (also on a clone without the corpus)', () => {
  // The fixtures are written for a Chinese newsletter; English ones are also rendered as
  // another newsletter would, so neither language setting hides a defect.
  const fixtures = [seed, ...postsUnder(fixturesDir)];
  it.each(fixtures.flatMap((path) => [sofa, rust].map((identity) => [path.slice(repo.length), identity.language, path, identity] as const)))(
    '%s (newsletter in %s) has every property',
    async (_name, _language, path, identity) => {
      const issue = await renderPostFile(path, { identity });
      expectEveryProperty(issue, readFileSync(path, 'utf8'));
    },
  );
});

const corpusRequired = inject('corpusRequired');
const corpusPresent = existsSync(corpusDir);

describe('the corpus of real posts (../shared/corpus)', () => {
  it('is present whenever CI requires it', () => {
    // On a user's fresh clone the corpus is absent and only our own fixtures run;
    // CI sets NEWSLETTER_CORPUS_REQUIRED=1 so a missing corpus fails instead of passing silently.
    expect(corpusPresent || !corpusRequired, `corpus not found at ${corpusDir}`).toBe(true);
  });

  const posts = corpusPresent ? postsUnder(corpusDir) : [];
  it.each(posts.map((path) => [path.slice(corpusDir.length + 1), path]))('%s renders readable and safe', async (_name, path) => {
    const identity = path.includes('this-week-in-rust') ? rust : sofa;
    const issue = await renderPostFile(path, { identity });
    expectEveryProperty(issue, readFileSync(path, 'utf8'));
    // Every warning points at a line of the post (or is about the whole email).
    for (const warning of issue.warnings) {
      if (warning.line !== undefined) expect(warning.line).toBeGreaterThan(0);
    }
  });

  // Registered only when the corpus is there, so a user's clone shows no skipped test.
  if (!corpusPresent) return;
  it('flags the broken link targets real authors wrote, with their lines', async () => {
    const issue = await renderPostFile(join(corpusDir, 'sofa-weekly', 'sofa-weekly-0421', 'index.md'), { identity: sofa });
    const dingtalk = issue.warnings.find((w) => w.code === 'LINK_UNFOLLOWABLE');
    expect(dingtalk?.message).toContain('dingtalk');
    const source = readFileSync(join(corpusDir, 'sofa-weekly', 'sofa-weekly-0421', 'index.md'), 'utf8').split('\n');
    expect(source[dingtalk!.line! - 1]).toContain('dingtalk://');
  });
});
