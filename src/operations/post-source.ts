/**
 * Where a post comes from when it is not a path on the editor's own machine: a file under
 * the configured posts folder (named relative to it, never leaving it), or Markdown sent
 * as text. Both render through the same renderer as `newsletter send`.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Identity } from '../config.ts';
import { NewsletterError } from '../errors.ts';
import type { Issue } from '../render/issue.ts';
import { POST_FILE } from '../render/parse-post.ts';
import { renderPostFile, renderPostSource } from '../render/render-post-file.ts';

export type PostSource = { post: string } | { markdown: string; slug: string };

const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function outside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/**
 * The absolute path of `post` under `postsDir`. Refused (INPUT_INVALID naming `field`): an
 * absolute path, a `..` segment, anything but a Markdown file name, and a symlink that
 * leads out of the folder. A missing file is POST_UNREADABLE, named as the caller wrote it.
 */
async function resolvePostPath(postsDir: string, post: string, field = 'post'): Promise<string> {
  const refuse = (why: string) => new NewsletterError('INPUT_INVALID', `"${post.slice(0, 120)}" ${why}`, { field });
  if (post.includes('\u0000')) throw refuse('contains a NUL character');
  if (isAbsolute(post) || /^[A-Za-z]:|^[\\/]/.test(post)) throw refuse(`must be relative to the posts folder (POSTS_DIR), not absolute`);
  if (post.split(/[\\/]/).includes('..')) throw refuse('must not contain ".." segments: only posts inside the posts folder (POSTS_DIR) can be sent');
  if (!POST_FILE.test(post)) throw refuse('is not a Markdown file (.md)');
  const root = resolve(postsDir);
  const path = resolve(root, post);
  if (outside(root, path)) throw refuse('is not inside the posts folder (POSTS_DIR)');
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(path), realpath(root)]);
  } catch (cause) {
    throw new NewsletterError('POST_UNREADABLE', 'no such post in the posts folder (POSTS_DIR)', { file: post, field, cause });
  }
  if (outside(realRoot, real)) throw refuse('leads out of the posts folder (POSTS_DIR) through a symbolic link');
  // The path as named, not the link's target: the slug (and so the campaign id) comes from it.
  return path;
}

/** Renders a post from the posts folder or from Markdown text; errors and warnings name it as the caller did. */
export async function renderFromSource(source: PostSource, options: { postsDir: string; identity: Identity; baseUrl?: string }): Promise<Issue> {
  const render = { identity: options.identity, baseUrl: options.baseUrl };
  if ('post' in source) {
    const path = await resolvePostPath(options.postsDir, source.post);
    try {
      return await renderPostFile(path, render);
    } catch (error) {
      // Messages name the post as the caller wrote it, not where the server keeps it.
      if (!(error instanceof NewsletterError) || error.location.file !== path) throw error;
      throw new NewsletterError(error.code, error.message, { ...error.location, file: source.post, cause: error });
    }
  }
  if (!SLUG.test(source.slug)) {
    throw new NewsletterError('INPUT_INVALID', `slug "${source.slug.slice(0, 80)}" must be 1-100 letters, digits, ".", "_" or "-"`, { field: 'slug' });
  }
  return renderPostSource(source.markdown, `${source.slug}.md`, render);
}
