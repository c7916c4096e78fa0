import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isNewsletterError, NewsletterError } from '../../errors.ts';
import type { Issue } from '../../render/issue.ts';
import { renderPostFile, type RenderPostFileOptions } from '../../render/render-post-file.ts';
import { loadTemplates } from '../../render/templates.ts';
import type { CliRun } from '../cli-io.ts';
import { cliConfig, printWarnings, writeLine } from '../command-helpers.ts';
import { postsToRender, slugTaken, type PostToRender } from '../posts-to-render.ts';
import { formatError } from '../run-action.ts';

interface RenderFlags {
  out: string;
  baseUrl?: string;
  json?: boolean;
}

type Outcome = { ok: true; issue: Issue; base: string } | { ok: false; error: unknown };

export function registerRenderCommand(program: Command, cli: CliRun): void {
  const { io } = cli;
  program
    .command('render')
    .description('Render posts into <slug>.html, <slug>.txt and <slug>.mjml: files, and every post under folders')
    .argument('<paths...>', 'posts (Markdown with YAML front matter) and folders of posts, searched recursively')
    .option('-o, --out <dir>', 'folder to write into', 'dist')
    .option('--base-url <url>', 'resolve site-relative links against this URL (overrides front matter and config)')
    .option('--json', 'print one JSON object a line per post instead of a summary')
    .action(async (paths: string[], flags: RenderFlags) => {
      const { posts, problems } = await postsToRender(paths);
      if (problems.length > 0) {
        // Nothing is rendered: a mistyped path would otherwise pass unnoticed among many posts.
        for (const problem of problems) writeLine(io.stderr, `newsletter: ${problem.toOneLine()}`);
        cli.exitCode = 1;
        return;
      }
      const { identity } = cliConfig(io);
      // One process renders them all, one after another: start-up is most of the time of one post,
      // and the render itself is CPU work that concurrency on one thread would not speed up.
      const options = { identity, baseUrl: flags.baseUrl, templates: loadTemplates() };
      let outReady = false;
      let failed = 0;
      let bugs = 0;
      for (const post of posts) {
        const rendered = await renderOne(post, options);
        if (rendered instanceof Error) {
          failed += 1;
          if (!isNewsletterError(rendered)) bugs += 1;
          report(cli, post, { ok: false, error: rendered }, flags.json === true);
          continue;
        }
        const issue = rendered;
        // Made only once a post renders: a run where every post fails writes nothing.
        if (!outReady) await writeOrStop(flags.out, () => mkdir(flags.out, { recursive: true }));
        outReady = true;
        const base = join(flags.out, issue.slug);
        await writeOrStop(flags.out, () =>
          Promise.all([writeFile(`${base}.html`, issue.html), writeFile(`${base}.txt`, issue.text), writeFile(`${base}.mjml`, issue.mjml)]),
        );
        report(cli, post, { ok: true, issue, base }, flags.json === true);
      }
      if (!flags.json) writeLine(io.stdout, `${posts.length - failed} rendered, ${failed} failed`);
      // 70 as for any command when the failure is a bug of ours, not the post's.
      cli.exitCode = bugs > 0 ? 70 : failed > 0 ? 1 : 0;
    });
}

/** The issue, or why the post could not be rendered (an Error of some kind). */
async function renderOne(post: PostToRender, options: RenderPostFileOptions): Promise<Issue | Error> {
  try {
    if (post.sameSlugAs !== undefined) throw slugTaken({ ...post, sameSlugAs: post.sameSlugAs });
    return await renderPostFile(post.file, options);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** An output folder that cannot be written ends the run: every other post would fail the same way. */
async function writeOrStop(out: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new NewsletterError('INPUT_INVALID', `cannot write into ${out}: ${reason}`, { field: '--out', cause });
  }
}

function report({ io }: CliRun, post: PostToRender, outcome: Outcome, json: boolean): void {
  if (outcome.ok) {
    const { issue, base } = outcome;
    const htmlBytes = Buffer.byteLength(issue.html);
    if (json) {
      const { slug, subject, preheader, warnings } = issue;
      const textBytes = Buffer.byteLength(issue.text);
      return writeLine(io.stdout, JSON.stringify({ file: post.file, slug, subject, preheader, htmlBytes, textBytes, warnings }));
    }
    writeLine(io.stdout, `${post.file} -> ${base}.html (${(htmlBytes / 1024).toFixed(1)} KB), ${base}.txt, ${base}.mjml; subject: ${issue.subject}`);
    return printWarnings(io.stderr, post.file, issue.warnings);
  }
  const error = outcome.error;
  if (json) {
    const failure = isNewsletterError(error)
      ? { code: error.code, message: error.location.field ? `${error.location.field}: ${error.message}` : error.message, line: error.location.line ?? null }
      : { code: 'RENDER_FAILED', message: formatError(error), line: null };
    return writeLine(io.stdout, JSON.stringify({ file: post.file, ok: false, ...failure }));
  }
  // The post is named even when the error is about another file (a template, say).
  const named = isNewsletterError(error) && error.location.file === post.file;
  const line = named ? formatError(error) : `${post.file}: ${formatError(error)}`;
  writeLine(io.stderr, `newsletter: ${line}`);
}
