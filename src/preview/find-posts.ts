/** Which files the preview shows, and `newsletter render` renders: one post, or every post under a folder. */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { NewsletterError } from '../errors.ts';
import { POST_FILE } from '../render/parse-post.ts';

export interface PostSource {
  /** Absolute path of the folder the preview serves; posts are named relative to it. */
  root: string;
  /** A single file when the preview was started on one post. */
  single: string | undefined;
}

export async function postSource(path: string): Promise<PostSource> {
  const absolute = resolve(path);
  let info;
  try {
    info = await stat(absolute);
  } catch (cause) {
    throw new NewsletterError('POST_UNREADABLE', 'no such file or folder', { file: path, cause });
  }
  if (info.isDirectory()) return { root: absolute, single: undefined };
  if (!POST_FILE.test(absolute)) throw new NewsletterError('INPUT_INVALID', 'a post is a Markdown file (.md)', { file: path });
  return { root: dirname(absolute), single: absolute };
}

/** Post paths relative to the root, with `/` separators, sorted. Hidden folders and node_modules are never entered. */
export async function listPosts(source: PostSource): Promise<string[]> {
  if (source.single) return [basename(source.single)];
  const posts: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(join(source.root, folder), { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const rel = folder ? `${folder}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(rel);
      // A folder of posts often has a README that is not a post.
      else if (entry.isFile() && POST_FILE.test(entry.name) && !/^readme\./i.test(entry.name)) posts.push(rel);
    }
  };
  await walk('');
  return posts.sort();
}

/** The absolute file for a relative post name, only when it is one of the listed posts (no path tricks). */
export async function resolvePost(source: PostSource, name: string): Promise<string | undefined> {
  const posts = await listPosts(source);
  return posts.includes(name) ? join(source.root, ...name.split('/')) : undefined;
}
