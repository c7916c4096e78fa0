import type { Command } from 'commander';
import { runInboundServer } from '../../processes/inbound-server.ts';
import type { CliRun } from '../cli-io.ts';
import { cliConfig, portFlag } from '../command-helpers.ts';

export function registerInboundCommand(program: Command, { io }: CliRun): void {
  program
    .command('inbound')
    .description('Receive what comes back by mail for BOUNCE_DOMAIN (bounces, complaints, mailto unsubscribes) over SMTP, and apply it; until SIGTERM/SIGINT')
    .option('--port <port>', 'port to listen on (default: INBOUND_PORT, 2525; 25 for an MX)')
    .option('--host <host>', 'address to listen on (default: INBOUND_HOST, 127.0.0.1)')
    .action(async (flags: { port?: string; host?: string }) => {
      await runInboundServer(cliConfig(io), { port: flags.port === undefined ? undefined : portFlag(flags.port), host: flags.host });
    });
}
