import type { Command } from 'commander';
import { runWebServer } from '../../processes/web-server.ts';
import type { CliRun } from '../cli-io.ts';
import { cliConfig, portFlag } from '../command-helpers.ts';

export function registerServerCommand(program: Command, { io }: CliRun): void {
  program
    .command('server')
    .description(
      'Run the web server: one-click unsubscribe, subscribe with double opt-in, /healthz; with NEWSLETTER_ADMIN_TOKEN also the admin API (/api) and the queue dashboard (/admin/queues)',
    )
    .option('--port <port>', 'port to listen on (default: PORT, 3000)')
    .option('--host <host>', 'address to listen on (default: HOST, 127.0.0.1)')
    .action(async (flags: { port?: string; host?: string }) => {
      await runWebServer(cliConfig(io), { port: flags.port === undefined ? undefined : portFlag(flags.port), host: flags.host });
    });
}
