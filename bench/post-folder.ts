/**
 * A folder of `count` posts for the render bench, made from the posts this checkout has: the seed
 * posts, the test fixtures and, when the checkout sits beside it, ../shared/corpus. They are
 * copied round-robin under distinct names, so that each has its own slug and its own output.
 * A post that does not render is left out: the bench measures rendering, not failing.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { POST_FILE, slugFromPath } from '../src/render/parse-post.ts';
import { renderPostFile } from '../src/render/render-post-file.ts';
import { loadTemplates } from '../src/render/templates.ts';

const SOURCES = ['emails/posts', 'test/fixtures/posts', '../shared/corpus'].map((dir) => resolve(dir));

async function markdownUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && POST_FILE.test(entry.name) && !/^readme\./i.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

export interface PostFolder {
  dir: string;
  /** The distinct posts it was made from. */
  sources: string[];
  /** How many came from ../shared/corpus (0 on a clean clone). */
  fromCorpus: number;
}

export async function buildPostFolder(count: number): Promise<PostFolder> {
  const { identity } = loadConfig();
  const templates = loadTemplates();
  const sources: string[] = [];
  for (const file of (await Promise.all(SOURCES.map(markdownUnder))).flat()) {
    try {
      await renderPostFile(file, { identity, templates });
      sources.push(file);
    } catch {
      // A fixture made to fail (or a post this renderer refuses) is not what the bench measures.
    }
  }
  if (sources.length === 0) throw new Error(`no post renders under ${SOURCES.join(', ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'nl-bench-posts-'));
  for (let i = 0; i < count; i += 1) {
    const source = sources[i % sources.length]!;
    await copyFile(source, join(dir, `${String(i).padStart(3, '0')}-${slugFromPath(source)}.md`));
  }
  const corpus = SOURCES[2]!;
  return { dir, sources, fromCorpus: sources.filter((file) => file.startsWith(corpus)).length };
}
