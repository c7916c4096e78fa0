/**
 * The `newsletter` command. Each subcommand lives in ./commands/ and registers itself
 * on the program; this file only wires them and maps errors to exit codes.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.ts';
import { exitCodeFor, formatError } from './run-action.ts';

const program = new Command('newsletter')
  .description('Render a Markdown post into a responsive email and deliver it to subscribers.')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

await registerCommands(program, process.argv);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`newsletter: ${formatError(error)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
