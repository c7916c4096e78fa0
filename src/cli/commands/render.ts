import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { renderPostFile } from '../../render/render-post-file.ts';
import type { CliRun } from '../cli-io.ts';
import { cliConfig, printWarnings, writeLine } from '../command-helpers.ts';

interface RenderFlags {
  out: string;
  baseUrl?: string;
  json?: boolean;
}

export function registerRenderCommand(program: Command, { io }: CliRun): void {
  program
    .command('render')
    .description('Render a post into <slug>.html, <slug>.txt and <slug>.mjml')
    .argument('<post.md>', 'the post: Markdown with YAML front matter')
    .option('-o, --out <dir>', 'folder to write into', 'dist')
    .option('--base-url <url>', 'resolve site-relative links against this URL (overrides front matter and config)')
    .option('--json', 'print {slug, subject, preheader, htmlBytes, textBytes, warnings} instead of a summary')
    .action(async (file: string, flags: RenderFlags) => {
      const config = cliConfig(io);
      const issue = await renderPostFile(file, { identity: config.identity, baseUrl: flags.baseUrl });
      await mkdir(flags.out, { recursive: true });
      const base = join(flags.out, issue.slug);
      await Promise.all([writeFile(`${base}.html`, issue.html), writeFile(`${base}.txt`, issue.text), writeFile(`${base}.mjml`, issue.mjml)]);
      const htmlBytes = Buffer.byteLength(issue.html);
      const textBytes = Buffer.byteLength(issue.text);
      if (flags.json) {
        const { slug, subject, preheader, warnings } = issue;
        return writeLine(io.stdout, JSON.stringify({ slug, subject, preheader, htmlBytes, textBytes, warnings }));
      }
      writeLine(io.stdout, `${base}.html (${(htmlBytes / 1024).toFixed(1)} KB), ${base}.txt, ${base}.mjml`);
      writeLine(io.stdout, `subject: ${issue.subject}`);
      printWarnings(io.stderr, file, issue.warnings);
    });
}
