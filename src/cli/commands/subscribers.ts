import type { Command } from 'commander';
import { metricsRecorder } from '../../metrics/metric-tally.ts';
import { addSubscriber, countSubscribers, removeSubscriber, setSubscriberStatus } from '../../operations/subscriber-operations.ts';
import { normalizeEmail } from '../../subscribers/email-address.ts';
import { parseStatus } from '../../subscribers/subscriber.ts';
import { registerSubscribersImportCommand } from './subscribers-import.ts';
import { registerSubscribersListCommands } from './subscribers-list.ts';
import type { CliRun } from '../cli-io.ts';
import { filterFlags, listFlag, withApp, writeLine } from '../command-helpers.ts';

export function registerSubscribersCommand(program: Command, cli: CliRun): void {
  const { io } = cli;
  const group = program.command('subscribers').description('Add, import, list, export, count and remove subscribers');

  group
    .command('add')
    .description('Add one subscriber (active), or merge name and list into an existing one; never changes a status')
    .argument('<email>', 'the address')
    .option('--name <name>', 'display name')
    .option('--list <list>', 'list to join (default: "default")')
    .option('--json', 'print {created, updated, subscriber}')
    .action(async (email: string, flags: { name?: string; list?: string; json?: boolean }) => {
      const list = listFlag(flags.list);
      normalizeEmail(email, { field: 'email' }); // a clear error before connecting anywhere
      const result = await withApp(io, (app) => addSubscriber(app.subscribers, { email, name: flags.name, list, reason: 'added from the command line' }));
      if (flags.json) return writeLine(io.stdout, JSON.stringify(result));
      const { subscriber, created, updated } = result;
      if (created) writeLine(io.stdout, `added ${subscriber.email} to ${subscriber.lists.join(', ')} (id ${subscriber.id})`);
      else writeLine(io.stdout, `${subscriber.email} already exists (${subscriber.status}): ${updated ? 'updated' : 'unchanged'}`);
    });

  registerSubscribersImportCommand(group, cli);
  registerSubscribersListCommands(group, cli);

  group
    .command('count')
    .description('How many subscribers a list has (every subscriber without --list), whatever their status unless --status')
    .option('--list <list>', 'count one list')
    .option('--status <status>', 'count only pending, active, unsubscribed, bounced or complained')
    .action(async (flags: { list?: string; status?: string }) => {
      const filter = filterFlags(flags);
      const count = await withApp(io, ({ subscribers }) => countSubscribers(subscribers, filter), { quiet: true });
      writeLine(io.stdout, String(count));
    });

  group
    .command('remove')
    .description('Delete a subscriber and all its data (to stop mail but remember the address, use set-status unsubscribed)')
    .argument('<email>', 'the address')
    .action(async (email: string) => {
      const normalized = normalizeEmail(email, { field: 'email' });
      await withApp(io, ({ subscribers }) => removeSubscriber(subscribers, normalized));
      writeLine(io.stdout, `removed ${normalized}`);
    });

  group
    .command('set-status')
    .description('Change a status by hand, e.g. reactivate a bounced address after checking it (recorded in its history)')
    .argument('<email>', 'the address')
    .argument('<status>', 'pending, active, unsubscribed, bounced or complained')
    .option('--reason <text>', 'why, for the history', 'set from the command line')
    .action(async (email: string, statusText: string, flags: { reason: string }) => {
      const normalized = normalizeEmail(email, { field: 'email' });
      const status = parseStatus(statusText);
      const result = await withApp(io, (app) =>
        setSubscriberStatus(app.subscribers, normalized, status, flags.reason, metricsRecorder(app.fleetMetrics().tally)),
      );
      writeLine(io.stdout, result.changed ? `${normalized} is now ${status}` : `${normalized} was already ${status}`);
    });
}
