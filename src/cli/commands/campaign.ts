import type { Command } from 'commander';
import type { App } from '../../app.ts';
import type { Campaign } from '../../campaign/campaign.ts';
import { complaintRate, formatRate, returnedMailWarnings } from '../../campaign/returned-mail.ts';
import type { RelayState } from '../../delivery/relay-breaker.ts';
import type { DomainStatus } from '../../operations/campaign-operations.ts';
import { NewsletterError } from '../../errors.ts';
import { campaignDeps, campaignFailures, campaignStatus, cancel, listCampaigns, pause, resendToFailed, resume } from '../../operations/campaign-operations.ts';
import { readStartTime, rescheduleCampaign, scheduleTimeZone, startCampaign, unscheduleCampaign } from '../../operations/schedule-operations.ts';
import { formatInZone } from '../../campaign/schedule-time.ts';
import { waitWithProgress } from './campaign-progress.ts';
import type { CliOutput, CliRun } from '../cli-io.ts';
import { withApp, writeLine } from '../command-helpers.ts';

/** `2026-12-07 09:00:00 Asia/Shanghai (+08:00) = 2026-12-07T01:00:00.000Z`: the time in the editor's zone and in UTC. */
function scheduledText(iso: string, zone: string): string {
  return `${formatInZone(new Date(iso), zone)} = ${iso}`;
}

function describe(c: Campaign & { relay?: RelayState; domains?: DomainStatus[] }, zone: string): string {
  const times = [
    `created ${c.createdAt}`,
    c.scheduledAt && `${c.state === 'scheduled' ? 'starts' : 'scheduled for'} ${scheduledText(c.scheduledAt, zone)}`,
    c.startedAt && `started ${c.startedAt}`,
    c.finishedAt && `finished ${c.finishedAt}`,
  ]
    .filter(Boolean)
    .join(', ');
  return [
    `${c.id}  ${c.state}`,
    `  "${c.subject}" to list ${c.list}`,
    `  total ${c.total}: accepted ${c.accepted}, failed ${c.failed}, skipped ${c.skipped}${c.deferred ? `, deferred ${c.deferred}` : ''}`,
    ...describeReturned(c),
    `  ${times}`,
    ...(c.endReason ? [`  ended: ${c.endReason}`] : []),
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
    // The time last, when known: bounces that came back by mail and older failures have none.
    writeLine(out, `${row.email ?? `(removed ${row.subscriberId})`}\t${said}${row.at ? `\t${row.at}` : ''}`);
  }
  if (failures.length < total) writeLine(out, `... and ${total - failures.length} more: newsletter campaign failures ${id}`);
}

export function registerCampaignCommand(program: Command, { io }: CliRun): void {
  const group = program
    .command('campaign')
    .description('Watch and steer campaigns: list, status, failures, schedule, unschedule, start, pause, resume, cancel, resend --failed');

  group
    .command('list')
    .description('Campaigns, newest first')
    .option('--json', 'print a JSON array')
    .option('--tz <zone>', "show scheduled times in this IANA time zone (default: timezone in newsletter.yaml, else the machine's), beside UTC")
    .action(async (flags: { json?: boolean; tz?: string }) => {
      const { campaigns, zone } = await withApp(
        io,
        async (app) => ({ zone: scheduleTimeZone(app.config, flags.tz), campaigns: await listCampaigns(campaignDeps(app), 100) }),
        { quiet: true },
      );
      if (flags.json) return writeLine(io.stdout, JSON.stringify(campaigns));
      if (campaigns.length === 0) return writeLine(io.stdout, 'no campaigns yet');
      for (const c of campaigns) {
        const when = c.state === 'scheduled' && c.scheduledAt ? `starts ${scheduledText(c.scheduledAt, zone)}` : c.createdAt;
        writeLine(io.stdout, `${c.id}\t${c.state}\t${c.accepted}/${c.total} accepted, ${c.failed} failed, ${c.skipped} skipped\t${when}`);
      }
    });

  group
    .command('status')
    .description('State and counters of one campaign')
    .argument('<id>', 'campaign id (see campaign list)')
    .option('--json', 'print the campaign as JSON')
    .option('--wait', 'show progress until it ends')
    .option('--tz <zone>', 'show a scheduled time in this IANA time zone, beside UTC')
    .action(async (id: string, flags: { json?: boolean; wait?: boolean; tz?: string }) => {
      const { campaign, zone } = await withApp(
        io,
        async (app) => ({
          zone: scheduleTimeZone(app.config, flags.tz),
          campaign: await (flags.wait ? waitWithProgress(app.campaigns, id, { stream: io.stderr }) : campaignStatus(campaignDeps(app), id)),
        }),
        { quiet: true },
      );
      writeLine(io.stdout, flags.json ? JSON.stringify(campaign) : describe(campaign, zone));
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
        const { campaign, zone } = await withApp(io, async (app) => ({ zone: scheduleTimeZone(app.config), campaign: await run(campaignDeps(app), id) }));
        writeLine(io.stdout, flags.json ? JSON.stringify(campaign) : describe(campaign, zone));
      });
  control('pause', 'Stop sending before the next message; resume continues where it stopped', pause);
  control('resume', 'Continue a paused campaign from its ledger (no one gets it twice); also retries batches that failed outright', resume);
  control('cancel', 'Stop for good: the recipients not yet sent to are skipped (a draft or scheduled campaign never starts)', cancel);
  control('unschedule', 'Make a scheduled campaign a draft again: nothing is sent until it is scheduled or started', unscheduleCampaign);
  control('start', 'Start a draft or scheduled campaign now, with the issue rendered when it was created', startCampaign);

  group
    .command('schedule')
    .description('Move the start of a draft or scheduled campaign (refused once it has started)')
    .argument('<id>', 'campaign id')
    .requiredOption('--at <time>', 'the new start: "2026-12-07 09:00", "2026-12-07 09:00:30" or ISO 8601 with an offset')
    .option('--tz <zone>', "the IANA time zone --at is read in (default: timezone in newsletter.yaml, else the machine's)")
    .option('--json', 'print the campaign as JSON')
    .action(async (id: string, flags: { at: string; tz?: string; json?: boolean }) => {
      const { campaign, zone } = await withApp(io, async (app) => {
        const deps = campaignDeps(app);
        const at = readStartTime(deps, flags.at, { zone: flags.tz });
        return { zone: scheduleTimeZone(app.config, flags.tz), campaign: await rescheduleCampaign(deps, id, at, '--at') };
      });
      writeLine(io.stdout, flags.json ? JSON.stringify(campaign) : describe(campaign, zone));
    });

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
