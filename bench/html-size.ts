/**
 * HTML bytes of each rendered post against Gmail's 102 KB clip: the seed and the shared corpus
 * when present (or the folders given), with the identities the corpus test uses (This Week in
 * Rust posts in English). Compare two checkouts by running it in each.
 * `npm run bench:html-size [-- --json out.json] [-- folder...]`
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { loadConfig, type Identity } from '../src/config.ts';
import { GMAIL_CLIP_BYTES } from '../src/render/render-issue.ts';
import { renderPostFile } from '../src/render/render-post-file.ts';

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonOut = jsonAt === -1 ? undefined : args.splice(jsonAt, 2)[1];
const folders = args.length > 0 ? args.map((folder) => resolve(folder)) : [resolve('../shared/corpus')].filter((folder) => existsSync(folder));

function postsUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return postsUnder(path);
      return /\.(md|markdown)$/.test(name) && name !== 'README.md' ? [path] : [];
    });
}

const sofa = loadConfig({ env: {} }).identity;
const rust: Identity = { ...sofa, name: 'This Week in Rust', siteUrl: 'https://this-week-in-rust.org', language: 'en' };
const posts = [
  { file: resolve('emails/posts/sofa-weekly-2019-11-01.md'), name: 'emails/posts/sofa-weekly-2019-11-01.md' },
  ...folders.flatMap((folder) => postsUnder(folder).map((file) => ({ file, name: `${basename(folder)}/${relative(folder, file)}` }))),
];
const sizes: Record<string, number | string> = {};
for (const { file, name } of posts) {
  try {
    const issue = await renderPostFile(file, { identity: file.includes('this-week-in-rust') ? rust : sofa });
    sizes[name] = Buffer.byteLength(issue.html);
  } catch (error) {
    sizes[name] = `not rendered: ${(error as Error).message}`;
  }
  const size = sizes[name];
  const note = typeof size === 'number' && size > GMAIL_CLIP_BYTES ? '  CLIPPED by Gmail' : '';
  console.log(`${String(size).padStart(8)}  ${name}${note}`);
}
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(sizes, null, 1)}\n`);
