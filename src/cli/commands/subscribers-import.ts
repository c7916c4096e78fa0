import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { NewsletterError } from '../../errors.ts';
import { importReportLines, importSubscribersCsv } from '../../operations/subscriber-operations.ts';
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
      const lines = importReportLines(report, file);
      writeLine(io.stdout, flags.json ? JSON.stringify(report) : lines.summary);
      for (const line of lines.rejected) io.stderr.write(`${line}\n`);
      if (lines.unlisted) io.stderr.write(`${lines.unlisted}\n`);
      if (report.rejectedTotal > 0) cli.exitCode = 1;
    });
}
