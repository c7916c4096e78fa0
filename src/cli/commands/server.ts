import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { runWebServer } from '../../processes/web-server.ts';
import { portFlag } from '../command-helpers.ts';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description(
      'Run the web server: one-click unsubscribe, subscribe with double opt-in, /healthz; with NEWSLETTER_ADMIN_TOKEN also the admin API (/api) and the queue dashboard (/admin/queues)',
    )
    .option('--port <port>', 'port to listen on (default: PORT, 3000)')
    .option('--host <host>', 'address to listen on (default: HOST, 127.0.0.1)')
    .action(async (flags: { port?: string; host?: string }) => {
      await runWebServer(loadConfig(), { port: flags.port === undefined ? undefined : portFlag(flags.port), host: flags.host });
    });
}
