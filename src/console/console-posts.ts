/**
 * The posts under POSTS_DIR as the console shows them, rendered by the preview's renderer
 * (one rendering path). The server watches no files: each request compares the posts'
 * modification times and renders again when one changed.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Identity } from '../config.ts';
import { listPosts, resolvePost, type PostSource } from '../preview/find-posts.ts';
import { PreviewRenderer, type RenderOutcome } from '../preview/preview-renderer.ts';
import { DEFAULT_EMAILS_DIR } from '../render/templates.ts';

export class ConsolePosts {
  private readonly source: PostSource;
  private readonly renderer: PreviewRenderer;
  private readonly seen = new Map<string, number>();

  constructor(options: { postsDir: string; identity: Identity; publicUrl: string }) {
    this.source = { root: options.postsDir, single: undefined };
    this.renderer = new PreviewRenderer({ identity: options.identity, publicUrl: options.publicUrl, emailsDir: DEFAULT_EMAILS_DIR });
  }

  /** POSTS_DIR, where `send` reads the post from (renderFromSource, as the admin API). */
  get root(): string {
    return this.source.root;
  }

  get generation(): number {
    return this.renderer.generation;
  }

  /** Every post's name (relative to POSTS_DIR, `/`-separated). */
  async names(): Promise<string[]> {
    const names = await listPosts(this.source);
    await this.forgetChanged(names);
    return names;
  }

  /** The post's render, or undefined when it is not one of the posts (no path tricks). */
  async render(name: string): Promise<RenderOutcome | undefined> {
    const file = await resolvePost(this.source, name);
    if (!file) return undefined;
    await this.forgetChanged([name]);
    return this.renderer.render(file);
  }

  private async forgetChanged(names: string[]): Promise<void> {
    let changed = false;
    for (const name of names) {
      const mtime = await stat(join(this.source.root, ...name.split('/'))).then(
        (info) => info.mtimeMs,
        () => -1,
      );
      if (this.seen.get(name) !== mtime) changed ||= this.seen.has(name);
      this.seen.set(name, mtime);
    }
    if (changed) this.renderer.invalidate();
  }
}
