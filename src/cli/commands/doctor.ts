import type { Command } from 'commander';
import { exitCodeOf } from '../../doctor/check.ts';
import { formatJson, formatText, redact } from '../../doctor/report.ts';
import { runDoctor, secretsOf } from '../../processes/doctor.ts';
import type { CliRun } from '../cli-io.ts';
import { cliConfig } from '../command-helpers.ts';

export function registerDoctorCommand(program: Command, cli: CliRun): void {
  const { io } = cli;
  program
    .command('doctor')
    .description('Check DNS (SPF, DKIM, DMARC, MX), PUBLIC_URL, the SMTP relay, Redis and a built message before the first send; exit 1 when a check fails')
    .option('--json', 'print {"checks":[{"id","area","status","message","fix"}]}')
    .action(async (flags: { json?: boolean }) => {
      const config = cliConfig(io);
      const checks = await runDoctor(config, { cwd: io.cwd });
      io.stdout.write(redact(flags.json ? formatJson(checks) : formatText(checks), secretsOf(config)));
      cli.exitCode = exitCodeOf(checks);
    });
}
