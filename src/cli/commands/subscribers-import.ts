import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { NewsletterError } from '../../errors.ts';
import { importSubscribersCsv } from '../../operations/subscriber-operations.ts';
import type { CliRun } from '../cli-io.ts';
import { listFlag, withApp, writeLine } from '../command-helpers.ts';

export function registerSubscribersImportCommand(group: Command, cli: CliRun): void {
  const { io } = cli;
  group
    .command('import')
    .description(
      'Import a CSV file (header row: email, optional name, status, lists; other columns become attributes). ' +
        'Bad rows are reported with their line and skipped; importing the same file again changes nothing. ' +
        'Exits 1 when any row was rejected.',
    )
    .argument('<file.csv>', 'UTF-8 CSV, comma-separated, with a header row')
    .option('--list <list>', 'list every row joins (default: "default" for new subscribers)')
    .option('--json', 'print {"imported","updated","unchanged","rejected":[{"line","reason"}]}')
    .action(async (file: string, flags: { list?: string; json?: boolean }) => {
      const list = listFlag(flags.list);
      // Fail before connecting anywhere: a clear line for a missing file or a folder.
      const info = await stat(file).catch((cause: unknown) => {
        throw new NewsletterError('IMPORT_FILE_INVALID', 'cannot read the file', { file, cause });
      });
      if (!info.isFile()) throw new NewsletterError('IMPORT_FILE_INVALID', 'not a file', { file });
      const progress = io.stderr.isTTY === true && !flags.json;
      const report = await withApp(io, ({ subscribers }) =>
        importSubscribersCsv(subscribers, createReadStream(file), {
          file,
          list,
          onProgress: progress ? (rows) => io.stderr.write(`\r${rows.toLocaleString('en')} rows`) : undefined,
        }),
      );
      if (progress) io.stderr.write('\n');
      if (flags.json) {
        writeLine(io.stdout, JSON.stringify(report));
      } else {
        writeLine(io.stdout, `imported ${report.imported}, updated ${report.updated}, unchanged ${report.unchanged}, rejected ${report.rejected.length}`);
      }
      for (const { line, reason } of report.rejected) io.stderr.write(`${file}:${line}: ${reason}\n`);
      if (report.rejected.length > 0) cli.exitCode = 1;
    });
}
