/**
 * The `newsletter` command. Each subcommand lives in ./commands/ and registers itself on a
 * program made for this run alone; this file only wires them and maps errors to exit codes.
 * bin/newsletter.js calls run() with the process's io; tests call it with their own.
 */
import { Command, CommanderError } from 'commander';
import type { CliIo, CliRun } from './cli-io.ts';
import { registerCommands } from './commands/index.ts';
import { exitCodeFor, formatError } from './run-action.ts';

export type { CliIo, CliOutput } from './cli-io.ts';

/** Runs `newsletter <argv...>` (argv without the node and script paths); resolves with the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const cli: CliRun = { io, exitCode: 0 };
  // A fresh program each run: commander keeps parsed options and actions on the instance.
  const program = new Command('newsletter')
    .description('Render a Markdown post into a responsive email and deliver it to subscribers.')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      getOutHelpWidth: () => (io.stdout.isTTY && io.stdout.columns) || 80,
      getErrHelpWidth: () => (io.stderr.isTTY && io.stderr.columns) || 80,
      // Our help has no colours; commander would otherwise look at the process's NO_COLOR and FORCE_COLOR.
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  try {
    await registerCommands(program, argv, cli);
    await program.parseAsync([...argv], { from: 'user' });
    return cli.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    io.stderr.write(`newsletter: ${formatError(error)}\n`);
    return exitCodeFor(error);
  }
}
