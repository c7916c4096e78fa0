import type { Command } from 'commander';
import { exportSubscribersCsv, selectSubscribers } from '../../operations/subscriber-operations.ts';
import type { CliOutput, CliRun } from '../cli-io.ts';
import { filterFlags, withApp } from '../command-helpers.ts';

/** Writes with backpressure, so a million lines never pile up in memory. */
async function write(out: CliOutput, text: string): Promise<void> {
  if (!out.write(text) && out.once) await new Promise<void>((resolve) => out.once!('drain', resolve));
}

export function registerSubscribersListCommands(group: Command, { io }: CliRun): void {
  group
    .command('list')
    .description('List subscribers in join order: email, status, lists, name (tab-separated)')
    .option('--list <list>', 'only this list')
    .option('--status <status>', 'only pending, active, unsubscribed, bounced or complained')
    .option('--json', 'print a JSON array of subscribers, with attributes and history')
    .action(async (flags: { list?: string; status?: string; json?: boolean }) => {
      const filter = filterFlags(flags);
      await withApp(
        io,
        async ({ subscribers }) => {
          let first = true;
          if (flags.json) await write(io.stdout, '[');
          for await (const s of selectSubscribers(subscribers, filter)) {
            if (flags.json) await write(io.stdout, `${first ? '\n' : ',\n'}${JSON.stringify(s)}`);
            else await write(io.stdout, `${s.email}\t${s.status}\t${s.lists.join(',')}\t${s.name ?? ''}\n`);
            first = false;
          }
          if (flags.json) await write(io.stdout, first ? ']\n' : '\n]\n');
        },
        { quiet: true },
      );
    });

  group
    .command('export')
    .description('Write subscribers as CSV to stdout (columns: email, name, status, lists, created_at, updated_at, then attributes); import reads it back')
    .option('--list <list>', 'only this list')
    .option('--status <status>', 'only pending, active, unsubscribed, bounced or complained')
    .action(async (flags: { list?: string; status?: string }) => {
      const filter = filterFlags(flags);
      await withApp(
        io,
        async ({ subscribers }) => {
          const csv = await exportSubscribersCsv(subscribers, filter);
          for await (const chunk of csv) await write(io.stdout, String(chunk));
        },
        { quiet: true },
      );
    });
}
