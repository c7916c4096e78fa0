/**
 * Renders posts for the preview and remembers the result until a file changes. A post
 * that fails keeps its last good render, so the page can show the error above it.
 */
import { relative } from 'node:path';
import type { Identity } from '../config.ts';
import { isNewsletterError } from '../errors.ts';
import type { Issue } from '../render/issue.ts';
import { renderPostFile } from '../render/render-post-file.ts';
import { sampleMessage, type SampleMessage } from './sample-message.ts';

export interface RenderError {
  file: string | undefined;
  line: number | undefined;
  field: string | undefined;
  reason: string;
  code: string;
}

export interface GoodRender {
  issue: Issue;
  sample: SampleMessage;
  renderedAt: Date;
  ms: number;
}

export type RenderOutcome = ({ ok: true } & GoodRender) | { ok: false; error: RenderError; renderedAt: Date; lastGood: GoodRender | undefined };

export interface PreviewRendererOptions {
  identity: Identity;
  publicUrl: string;
  emailsDir: string | undefined;
  /** Site-relative links resolve against this (as `send --base-url`). */
  baseUrl?: string;
  now?: () => Date;
}

function describe(error: unknown): RenderError {
  // Relative to where the editor started the preview, unless that climbs out of it.
  const shown = (file: string | undefined) => {
    if (!file) return undefined;
    const rel = relative(process.cwd(), file);
    return rel && !rel.startsWith('..') ? rel : file;
  };
  if (isNewsletterError(error)) {
    const { file, line, field } = error.location;
    return { file: shown(file), line, field, reason: error.message, code: error.code };
  }
  const io = error as NodeJS.ErrnoException;
  // Anything else is a bug, shown rather than hidden.
  return { file: shown(io?.path), line: undefined, field: undefined, reason: io?.message ?? String(error), code: io?.code ?? 'INTERNAL' };
}

export class PreviewRenderer {
  private readonly options: PreviewRendererOptions;
  private readonly cache = new Map<string, Promise<RenderOutcome>>();
  private readonly lastGood = new Map<string, GoodRender>();
  /** Bumped on every change; pages use it to know they are stale. */
  generation = 0;

  constructor(options: PreviewRendererOptions) {
    this.options = options;
  }

  /** A post, a layout or a partial changed: everything renders again on next request. */
  invalidate(): void {
    this.generation += 1;
    this.cache.clear();
  }

  render(file: string): Promise<RenderOutcome> {
    let outcome = this.cache.get(file);
    if (!outcome) {
      outcome = this.renderNow(file);
      this.cache.set(file, outcome);
    }
    return outcome;
  }

  private async renderNow(file: string): Promise<RenderOutcome> {
    const { identity, publicUrl, emailsDir, baseUrl, now = () => new Date() } = this.options;
    const started = performance.now();
    const renderedAt = now();
    try {
      const issue = await renderPostFile(file, { identity, emailsDir, baseUrl });
      const sample = sampleMessage(issue, identity, publicUrl, renderedAt);
      const good: GoodRender = { issue, sample, renderedAt, ms: Math.round(performance.now() - started) };
      this.lastGood.set(file, good);
      return { ok: true, ...good };
    } catch (error) {
      return { ok: false, error: describe(error), renderedAt, lastGood: this.lastGood.get(file) };
    }
  }
}
