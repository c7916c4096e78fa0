import type { Command } from 'commander';
import type { App } from '../../app.ts';
import type { Campaign } from '../../campaign/campaign.ts';
import { complaintRate, formatRate, returnedMailWarnings } from '../../campaign/returned-mail.ts';
import type { RelayState } from '../../delivery/relay-breaker.ts';
import type { DomainStatus } from '../../operations/campaign-operations.ts';
import { NewsletterError } from '../../errors.ts';
import { campaignDeps, campaignFailures, campaignStatus, cancel, listCampaigns, pause, resendToFailed, resume } from '../../operations/campaign-operations.ts';
import { waitWithProgress } from './campaign-progress.ts';
import type { CliOutput, CliRun } from '../cli-io.ts';
import { withApp, writeLine } from '../command-helpers.ts';

function describe(c: Campaign & { relay?: RelayState; domains?: DomainStatus[] }): string {
  const times = [`created ${c.createdAt}`, c.startedAt && `started ${c.startedAt}`, c.finishedAt && `finished ${c.finishedAt}`].filter(Boolean).join(', ');
  return [
    `${c.id}  ${c.state}`,
    `  "${c.subject}" to list ${c.list}`,
    `  total ${c.total}: accepted ${c.accepted}, failed ${c.failed}, skipped ${c.skipped}${c.deferred ? `, deferred ${c.deferred}` : ''}`,
    ...describeReturned(c),
    `  ${times}`,
    ...(c.relay && c.relay.state !== 'closed' ? [`  ${describeRelay(c.relay)}`] : []),
    ...(c.domains ?? []).map((d) => `  ${describeDomain(d)}`),
    ...returnedMailWarnings(c).map((warning) => `  warning: ${warning}`),
  ].join('\n');
}

/** What came back by mail, once anything has. */
function describeReturned(c: Campaign): string[] {
  const r = c.returned;
  if (Object.values(r).every((n) => n === 0)) return [];
  return [
    `  came back by mail: bounced ${r.hard} hard, ${r.soft} soft; complained ${r.complained} (${formatRate(complaintRate(c))} of accepted); unsubscribed ${r.unsubscribed}`,
    ...(r.blocked || r.delayed ? [`  not counted against readers: blocked ${r.blocked} (refused because of us), delayed ${r.delayed}`] : []),
  ];
}

function describeRelay(relay: RelayState): string {
  if (relay.state === 'open')
    return `relay: paused for ${Math.ceil(relay.pausedForMs / 1000)} s more after ${relay.failures} failures in a row (${relay.reason})`;
  return `relay: sending again on trial after a pause (${relay.failures} failures in a row)`;
}

function describeDomain(d: DomainStatus): string {
  const waiting = `${d.waiting} recipient(s) of this campaign waiting`;
  if (d.state === 'paused')
    return `receiving domain ${d.group}: paused until ${d.until} (${Math.ceil(d.pausedForMs / 1000)} s more), ${waiting}; it said: ${d.reason}`;
  return `receiving domain ${d.group}: resuming slowly at ${Math.round(d.share * 100)} % of its pace after a pause, ${waiting}; it said: ${d.reason}`;
}

/** The failed deliveries with the address and the server's reply, then the bounces that came back by mail (at most `limit`, 0 for all). */
export async function printFailures(out: CliOutput, app: App, id: string, limit = 0, json = false): Promise<void> {
  const { failures, total } = await campaignFailures(campaignDeps(app), id, limit);
  if (json) return writeLine(out, JSON.stringify(failures));
  for (const row of failures) {
    const said = row.returned ? `came back by mail: ${[row.returned.kind, row.returned.status].filter(Boolean).join(' ')}: ${row.reply}` : row.reply;
    writeLine(out, `${row.email ?? `(removed ${row.subscriberId})`}\t${said}`);
  }
  if (failures.length < total) writeLine(out, `... and ${total - failures.length} more: newsletter campaign failures ${id}`);
}

export function registerCampaignCommand(program: Command, { io }: CliRun): void {
  const group = program.command('campaign').description('Watch and steer campaigns: list, status, failures, pause, resume, cancel, resend --failed');

  group
    .command('list')
    .description('Campaigns, newest first')
    .option('--json', 'print a JSON array')
    .action(async (flags: { json?: boolean }) => {
      const campaigns = await withApp(io, (app) => listCampaigns(campaignDeps(app), 100), { quiet: true });
      if (flags.json) return writeLine(io.stdout, JSON.stringify(campaigns));
      if (campaigns.length === 0) return writeLine(io.stdout, 'no campaigns yet');
      for (const c of campaigns)
        writeLine(io.stdout, `${c.id}\t${c.state}\t${c.accepted}/${c.total} accepted, ${c.failed} failed, ${c.skipped} skipped\t${c.createdAt}`);
    });

  group
    .command('status')
    .description('State and counters of one campaign')
    .argument('<id>', 'campaign id (see campaign list)')
    .option('--json', 'print the campaign as JSON')
    .option('--wait', 'show progress until it ends')
    .action(async (id: string, flags: { json?: boolean; wait?: boolean }) => {
      const campaign = await withApp(
        io,
        (app) => (flags.wait ? waitWithProgress(app.campaigns, id, { stream: io.stderr }) : campaignStatus(campaignDeps(app), id)),
        { quiet: true },
      );
      writeLine(io.stdout, flags.json ? JSON.stringify(campaign) : describe(campaign));
    });

  group
    .command('failures')
    .description('Recipients whose delivery failed, with the SMTP reply, and the bounces that came back by mail')
    .argument('<id>', 'campaign id')
    .option('--json', 'print [{subscriberId, email, reply, returned?: {kind, status}}]')
    .action(async (id: string, flags: { json?: boolean }) => {
      await withApp(io, (app) => printFailures(io.stdout, app, id, 0, flags.json), { quiet: true });
    });

  const control = (name: string, description: string, run: typeof pause) =>
    group
      .command(name)
      .description(description)
      .argument('<id>', 'campaign id')
      .option('--json', 'print the campaign as JSON')
      .action(async (id: string, flags: { json?: boolean }) => {
        const campaign = await withApp(io, (app) => run(campaignDeps(app), id));
        writeLine(io.stdout, flags.json ? JSON.stringify(campaign) : describe(campaign));
      });
  control('pause', 'Stop sending before the next message; resume continues where it stopped', pause);
  control('resume', 'Continue a paused campaign from its ledger (no one gets it twice); also retries batches that failed outright', resume);
  control('cancel', 'Stop for good: the recipients not yet sent to are skipped', cancel);

  group
    .command('resend')
    .description('Send a completed campaign again, only to the recipients whose delivery failed')
    .argument('<id>', 'campaign id')
    .option('--failed', 'required: only the failed recipients')
    .option('--include-unknown', 'also those whose outcome is unknown (a worker died after sending: they may have it already)')
    .option('--json', 'print {round, recipients, unknownLeftOut}')
    .action(async (id: string, flags: { failed?: boolean; includeUnknown?: boolean; json?: boolean }) => {
      if (!flags.failed) throw new NewsletterError('INPUT_INVALID', 'only `resend --failed` exists: say --failed', { field: '--failed' });
      const result = await withApp(io, (app) => resendToFailed(campaignDeps(app), id, { includeUnknown: flags.includeUnknown }));
      if (flags.json) return writeLine(io.stdout, JSON.stringify(result));
      writeLine(
        io.stdout,
        result.recipients === 0
          ? `campaign ${id} has no failed recipients to send to`
          : `campaign ${id}: ${result.recipients} failed recipient(s) queued again (round ${result.round})`,
      );
      if (result.unknownLeftOut > 0) {
        writeLine(
          io.stdout,
          `${result.unknownLeftOut} failed with an unknown outcome (may have been delivered) and were left out; add --include-unknown to send to them too`,
        );
      }
    });
}
