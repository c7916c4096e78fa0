/**
 * Every relative link in README.md and docs/*.md points at a file that exists, and every
 * anchor (`page.md#heading`, `#heading`) at a heading of that page, as GitHub names it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingAnchors, links } from './markdown.ts';

const PAGES = [
  'README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name)),
];

/** Where a link goes wrong, or undefined when it resolves. */
function problem(page: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto:: not ours to check offline
  const [pathPart = '', anchor] = target.split('#', 2);
  const file = pathPart === '' ? resolve(page) : resolve(dirname(page), decodeURIComponent(pathPart));
  if (!existsSync(file)) return `no file ${relative('.', file)}`;
  if (anchor === undefined) return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return `an anchor into ${relative('.', file)}, which is not a Markdown page`;
  if (!headingAnchors(readFileSync(file, 'utf8')).has(decodeURIComponent(anchor))) return `no heading #${anchor} in ${relative('.', file)}`;
  return undefined;
}

describe('links in README.md and docs/', () => {
  it('has pages to check', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['README.md', join('docs', 'architecture.md')]));
  });

  for (const page of PAGES) {
    it(`${page}: every relative link and anchor resolves`, () => {
      const found = links(readFileSync(page, 'utf8'));
      const broken = found.flatMap(({ target, line }) => {
        const why = problem(page, target);
        return why ? [`${page}:${line}: ${target}: ${why}`] : [];
      });
      expect(broken).toEqual([]);
    });
  }

  it('reads links and GitHub anchors the way GitHub does', () => {
    const sample = ['# What to watch on `/metrics`', '## DNS: SPF, DKIM, DMARC', '## Notes', '## Notes', '```', '# not a heading', '```'].join('\n');
    expect([...headingAnchors(sample)]).toEqual(['what-to-watch-on-metrics', 'dns-spf-dkim-dmarc', 'notes', 'notes-1']);
    const text = 'See [the guide](docs/a.md#b) and ![a picture](img.png "title"), not `[code](x.md)`.\n```\n[fenced](y.md)\n```';
    expect(links(text)).toEqual([
      { target: 'docs/a.md#b', line: 1 },
      { target: 'img.png', line: 1 },
    ]);
  });
});
