/**
 * Which posts one `newsletter render` renders: the files named, and every post under the
 * folders named (found as the preview finds them), in the order given, each file once.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NewsletterError } from '../errors.ts';
import { listPosts } from '../preview/find-posts.ts';
import { slugFromPath } from '../render/parse-post.ts';

export interface PostToRender {
  /** As the user wrote it, or their folder joined with the post's path under it: what messages name. */
  file: string;
  slug: string;
  /** An earlier post of this run with the same slug: this one is not rendered, so neither output is overwritten. */
  sameSlugAs?: string;
}

export interface PostsToRender {
  posts: PostToRender[];
  /** A path that does not exist, or a folder without a post: nothing is rendered when there is one. */
  problems: NewsletterError[];
}

/** The posts a path stands for; a file is taken as a post whatever its name, as it always was. */
async function postsAt(path: string): Promise<string[] | NewsletterError> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    return new NewsletterError('POST_UNREADABLE', 'no such file', { file: path, cause });
  }
  if (!info.isDirectory()) return [path];
  const found = await listPosts({ root: resolve(path), single: undefined });
  if (found.length === 0) {
    return new NewsletterError('INPUT_INVALID', 'no posts in this folder (Markdown files; hidden folders, node_modules and README.md are skipped)', {
      file: path,
    });
  }
  return found.map((rel) => join(path, ...rel.split('/')));
}

export async function postsToRender(paths: readonly string[]): Promise<PostsToRender> {
  const posts: PostToRender[] = [];
  const problems: NewsletterError[] = [];
  const seenFiles = new Set<string>();
  // Case folded: on macOS and Windows `Weekly.html` and `weekly.html` are one file.
  const slugOwners = new Map<string, string>();
  for (const path of paths) {
    const found = await postsAt(path);
    if (found instanceof NewsletterError) {
      problems.push(found);
      continue;
    }
    for (const file of found) {
      // The same file named twice (`render a.md a.md`, or a file and its folder) is rendered once.
      const absolute = resolve(file);
      if (seenFiles.has(absolute)) continue;
      seenFiles.add(absolute);
      const slug = slugFromPath(file);
      const owner = slugOwners.get(slug.toLowerCase());
      if (owner === undefined) slugOwners.set(slug.toLowerCase(), file);
      posts.push(owner === undefined ? { file, slug } : { file, slug, sameSlugAs: owner });
    }
  }
  return { posts, problems };
}

/** Why a post with a taken slug is not rendered, naming both posts. */
export function slugTaken(post: PostToRender & { sameSlugAs: string }): NewsletterError {
  return new NewsletterError(
    'INPUT_INVALID',
    `slug "${post.slug}" is already the slug of ${post.sameSlugAs}, whose output has the same name; not rendered: rename one of the two ` +
      '(the slug is the file name, or the folder name for index.md)',
    { file: post.file },
  );
}
