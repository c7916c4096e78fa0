/** The one way every entry point (CLI, preview, send, admin API) turns a post into an issue. */
import { readFile } from 'node:fs/promises';
import type { Identity } from '../config.ts';
import { NewsletterError } from '../errors.ts';
import type { Issue } from './issue.ts';
import { decodePostBytes } from './decode-post.ts';
import { parsePost } from './parse-post.ts';
import { renderIssue } from './render-issue.ts';
import { loadTemplates, type Templates } from './templates.ts';

export interface RenderPostFileOptions {
  identity: Identity;
  baseUrl?: string;
  emailsDir?: string;
  /** Already loaded, when one run renders many posts: the layouts are read once, not per post. */
  templates?: Templates;
}

export async function readPostSource(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read the file';
    throw new NewsletterError('POST_UNREADABLE', reason, { file, cause });
  }
  return decodePostBytes(bytes, file);
}

export async function renderPostFile(file: string, options: RenderPostFileOptions): Promise<Issue> {
  return renderPostSource(await readPostSource(file), file, options);
}

/** A post that is not a file (Markdown sent to the admin API): `file` names it in messages and gives the slug. */
export function renderPostSource(source: string, file: string, options: RenderPostFileOptions): Promise<Issue> {
  const post = parsePost(source, file);
  return renderIssue(post, { identity: options.identity, baseUrl: options.baseUrl, templates: options.templates ?? loadTemplates(options.emailsDir) });
}
