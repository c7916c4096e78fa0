import type { Command } from 'commander';
import type { CliRun } from '../cli-io.ts';
import { withApp, writeLine } from '../command-helpers.ts';

export function registerMigrateCommand(program: Command, cli: CliRun): void {
  const { io } = cli;
  program
    .command('migrate')
    .description(
      'Move subscribers kept in the layout before 0.2 (~880 bytes of Redis each) to the compact one (~200): online (sending, unsubscribes and imports go on), resumable, and a no-op once done',
    )
    .option('--json', 'print {moved, left, damaged}')
    .action(async (flags: { json?: boolean }) => {
      const started = Date.now();
      let shown = 0;
      const report = await withApp(io, (app) =>
        app.subscribers.migrateLayout((moved) => {
          if (moved - shown < 10_000) return;
          shown = moved;
          io.stderr.write(`moved ${moved} subscribers\n`);
        }),
      );
      if (flags.json) writeLine(io.stdout, JSON.stringify(report));
      else if (report.moved === 0 && report.left === 0) writeLine(io.stdout, 'nothing to move: every subscriber is in the current layout');
      else writeLine(io.stdout, `moved ${report.moved} subscribers in ${((Date.now() - started) / 1000).toFixed(1)} s; ${report.left} left in the old layout`);
      for (const id of report.damaged) io.stderr.write(`error: subscriber ${id}: its record cannot be read; left in the old layout\n`);
      if (report.left > 0) cli.exitCode = 1;
    });
}
