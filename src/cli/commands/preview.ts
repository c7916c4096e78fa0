import type { Command } from 'commander';
import type { CliRun } from '../cli-io.ts';
import { cliConfig, portFlag, writeLine } from '../command-helpers.ts';
import { NewsletterError } from '../../errors.ts';
import { postSource } from '../../preview/find-posts.ts';
import { openInBrowser } from '../../preview/open-browser.ts';
import { OUTBOX_DIR } from '../../preview/outbox.ts';
import { createPreviewServer } from '../../preview/preview-server.ts';
import { createPreviewTestSender, sendTestUnavailable } from '../../preview/preview-test-sender.ts';

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
      const config = cliConfig(io);
      const source = await postSource(path);
      const unavailable = sendTestUnavailable(config);
      const server = await createPreviewServer({
        source,
        identity: config.identity,
        publicUrl: config.http.publicUrl,
        baseUrl: flags.baseUrl,
        sendTest: unavailable ? undefined : createPreviewTestSender(config),
        sendUnavailable: unavailable,
        allowedHosts: [flags.host.toLowerCase()],
        outboxDir: OUTBOX_DIR,
      });
      try {
        await server.listen({ port, host: flags.host });
      } catch (cause) {
        await server.close();
        throw new NewsletterError('INPUT_INVALID', `cannot listen on ${flags.host}:${port}: ${(cause as Error).message}`, { field: '--port', cause });
      }
      const address = server.server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      const url = `http://${flags.host.includes(':') ? `[${flags.host}]` : flags.host}:${bound}/`;
      writeLine(io.stdout, `previewing ${source.single ?? source.root} at ${url}  (Ctrl-C to stop)`);
      if (unavailable) writeLine(io.stdout, `"Send a test" is off: ${unavailable}`);
      if (flags.open) openInBrowser(url);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
