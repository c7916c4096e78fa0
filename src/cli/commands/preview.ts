import type { Command } from 'commander';
import { runPreview } from '../../processes/preview.ts';
import type { CliRun } from '../cli-io.ts';
import { cliConfig, portFlag, writeLine } from '../command-helpers.ts';

interface PreviewFlags {
  port: string;
  host: string;
  baseUrl?: string;
  open?: boolean;
}

export function registerPreviewCommand(program: Command, { io }: CliRun): void {
  program
    .command('preview')
    .description('Preview posts in your browser as you write: 375 and 600 px, dark mode, text part, headers, warnings; reloads on save')
    .argument('[path]', 'a post, or a folder of posts', 'emails/posts')
    .option('--port <port>', 'port to listen on (0: any free port)', '4000')
    .option('--host <host>', 'address to listen on; keep it local', '127.0.0.1')
    .option('--base-url <url>', 'resolve site-relative links against this URL (as `send --base-url`)')
    .option('--open', 'open the preview in the default browser')
    .action(async (path: string, flags: PreviewFlags) => {
      const port = portFlag(flags.port);
      await runPreview(cliConfig(io), { path, port, host: flags.host, baseUrl: flags.baseUrl, open: flags.open, say: (line) => writeLine(io.stdout, line) });
    });
}
