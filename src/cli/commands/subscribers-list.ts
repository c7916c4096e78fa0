import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { exportSubscribersCsv, selectSubscribers } from '../../operations/subscriber-operations.ts';
import { filterFlags, withApp } from '../command-helpers.ts';

/** Writes with backpressure, so a million lines never pile up in memory. */
async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export function registerSubscribersListCommands(group: Command): void {
  group
    .command('list')
    .description('List subscribers in join order: email, status, lists, name (tab-separated)')
    .option('--list <list>', 'only this list')
    .option('--status <status>', 'only pending, active, unsubscribed, bounced or complained')
    .option('--json', 'print a JSON array of subscribers, with attributes and history')
    .action(async (flags: { list?: string; status?: string; json?: boolean }) => {
      const filter = filterFlags(flags);
      await withApp(
        async ({ subscribers }) => {
          let first = true;
          if (flags.json) await write(process.stdout, '[');
          for await (const s of selectSubscribers(subscribers, filter)) {
            if (flags.json) await write(process.stdout, `${first ? '\n' : ',\n'}${JSON.stringify(s)}`);
            else await write(process.stdout, `${s.email}\t${s.status}\t${s.lists.join(',')}\t${s.name ?? ''}\n`);
            first = false;
          }
          if (flags.json) await write(process.stdout, first ? ']\n' : '\n]\n');
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
        async ({ subscribers }) => {
          const csv = await exportSubscribersCsv(subscribers, filter);
          csv.pipe(process.stdout);
          await finished(csv);
        },
        { quiet: true },
      );
    });
}
