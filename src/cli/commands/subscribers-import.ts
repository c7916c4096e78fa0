import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { NewsletterError } from '../../errors.ts';
import { importSubscribersCsv } from '../../operations/subscriber-operations.ts';
import { REJECTED_LISTED } from '../../subscribers/import-rejections.ts';
import type { CliRun } from '../cli-io.ts';
import { listFlag, withApp, writeLine } from '../command-helpers.ts';

export function registerSubscribersImportCommand(group: Command, cli: CliRun): void {
  const { io } = cli;
  group
    .command('import')
    .description(
      'Import a CSV file (header row: email, optional name, status, lists; other columns become attributes). ' +
        `Bad rows are skipped and reported (the first ${REJECTED_LISTED} with their line, all counted by kind); importing the same file again changes nothing. ` +
        'Exits 1 when any row was rejected.',
    )
    .argument('<file.csv>', 'UTF-8 CSV, comma-separated, with a header row')
    .option('--list <list>', 'list every row joins (default: "default" for new subscribers)')
    .option('--json', 'print {"imported","updated","unchanged","rejected":[{"line","reason"}],"rejectedTotal","rejectedByKind":{kind: count}}')
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
        const kinds = Object.entries(report.rejectedByKind).map(([kind, count]) => `${kind} ${count}`);
        writeLine(
          io.stdout,
          `imported ${report.imported}, updated ${report.updated}, unchanged ${report.unchanged}, rejected ${report.rejectedTotal}` +
            (kinds.length ? ` (${kinds.join(', ')})` : ''),
        );
      }
      for (const { line, reason } of report.rejected) io.stderr.write(`${file}:${line}: ${reason}\n`);
      const unlisted = report.rejectedTotal - report.rejected.length;
      if (unlisted > 0)
        io.stderr.write(`${file}: ${unlisted.toLocaleString('en')} more rejected rows are not listed (the first ${report.rejected.length} are)\n`);
      if (report.rejectedTotal > 0) cli.exitCode = 1;
    });
}
