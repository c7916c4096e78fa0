import type { Command } from 'commander';
import { campaignDeps, parseSendTarget, sendIssue } from '../../operations/campaign-operations.ts';
import { readStartTime, scheduleIssue, scheduleTimeZone } from '../../operations/schedule-operations.ts';
import { formatInZone } from '../../campaign/schedule-time.ts';
import { NewsletterError } from '../../errors.ts';
import { renderPostFile } from '../../render/render-post-file.ts';
import { waitWithProgress } from './campaign-progress.ts';
import { printFailures } from './campaign.ts';
import type { CliRun } from '../cli-io.ts';
import { cliConfig, printWarnings, withApp, writeLine } from '../command-helpers.ts';

interface SendFlags {
  list?: string;
  testTo?: string;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
  baseUrl?: string;
  at?: string;
  tz?: string;
}

export function registerSendCommand(program: Command, cli: CliRun): void {
  const { io } = cli;
  program
    .command('send')
    .description('Render a post once and send it to every active subscriber of a list (a campaign); or one test message with --test-to')
    .argument('<post.md>', 'the post: Markdown with YAML front matter')
    .option('--list <list>', 'the list to send to')
    .option('--test-to <address>', 'send one message, marked as a test, to this address only (no campaign, no counters)')
    .option('--dry-run', 'render, lint and count recipients; send nothing')
    .option('--wait', 'show progress until the campaign ends, then list failures')
    .option('--json', 'print {"campaignId","total","accepted","failed","skipped"} (with --wait: at the end)')
    .option('--base-url <url>', 'resolve site-relative links against this URL')
    .option('--at <time>', 'start at this time instead of now: "2026-12-07 09:00", "2026-12-07 09:00:30" or ISO 8601 with an offset')
    .option('--tz <zone>', "the IANA time zone --at is read in (default: timezone in newsletter.yaml, else the machine's)")
    .action(async (file: string, flags: SendFlags) => {
      const { list, testTo } = parseSendTarget({ list: flags.list, testTo: flags.testTo }, { list: '--list', testTo: '--test-to' });
      if (flags.tz !== undefined && flags.at === undefined) throw new NewsletterError('INPUT_INVALID', '--tz only says how to read --at', { field: '--tz' });
      if (flags.at !== undefined && (testTo || flags.dryRun || flags.wait)) {
        throw new NewsletterError('INPUT_INVALID', '--at schedules a campaign to a list; it does not go with --test-to, --dry-run or --wait', {
          field: '--at',
        });
      }
      const config = cliConfig(io);
      // The time is checked before rendering, and the post is rendered and checked now, not when the time comes.
      const at = flags.at === undefined ? undefined : readStartTime({ identity: config.identity, now: () => new Date() }, flags.at, { zone: flags.tz });
      const issue = await renderPostFile(file, { identity: config.identity, baseUrl: flags.baseUrl });
      printWarnings(io.stderr, file, issue.warnings);
      await withApp(io, async (app) => {
        if (at) {
          const campaign = await scheduleIssue(campaignDeps(app), issue, { list: list!, at, field: '--at' });
          if (flags.json) return writeLine(io.stdout, JSON.stringify({ campaignId: campaign.id, state: campaign.state, scheduledAt: campaign.scheduledAt }));
          const zone = scheduleTimeZone(config, flags.tz);
          return writeLine(
            io.stdout,
            `campaign ${campaign.id} scheduled for ${formatInZone(at, zone)} = ${at.toISOString()}; it goes to the members of ${campaign.list} at that time`,
          );
        }
        const result = await sendIssue(campaignDeps(app), issue, { list, testTo, dryRun: flags.dryRun });
        if (result.kind === 'dry-run') {
          const { slug, subject, recipients } = result;
          const summary = { dryRun: true, slug, subject, list: result.list, recipients, warnings: issue.warnings.length };
          if (flags.json) return writeLine(io.stdout, JSON.stringify(summary));
          return writeLine(
            io.stdout,
            `dry run: "${subject}" would go to ${recipients} active subscriber(s) of ${result.list ?? '(no list)'}; ${issue.warnings.length} warning(s); nothing sent`,
          );
        }
        if (result.kind === 'test') {
          if (flags.json) return writeLine(io.stdout, JSON.stringify({ test: true, to: result.to, reply: result.reply }));
          return writeLine(io.stdout, `test message sent to ${result.to}: ${result.reply}`);
        }
        const { campaign, workers } = result;
        if (!flags.json) writeLine(io.stdout, `campaign ${campaign.id}: ${campaign.total} recipient(s) queued`);
        if (workers === 0) {
          io.stderr.write('warning: no delivery worker is running; start one with `newsletter worker`\n');
        }
        if (!app.config.bounces.domain) {
          io.stderr.write(
            'note: BOUNCE_DOMAIN is not set, so bounces and complaints that come back by mail will not be read (see "Reading bounces" in docs/operators-guide.md)\n',
          );
        }
        const final = flags.wait ? await waitWithProgress(app.campaigns, campaign.id, { stream: io.stderr }) : campaign;
        const { id: campaignId, total, accepted, failed, skipped } = final;
        if (flags.json) writeLine(io.stdout, JSON.stringify({ campaignId, total, accepted, failed, skipped }));
        else if (flags.wait) {
          writeLine(io.stdout, `campaign ${campaignId} ${final.state}: ${accepted} accepted, ${failed} failed, ${skipped} skipped of ${total}`);
          if (failed > 0) await printFailures(io.stdout, app, campaignId, 20);
        }
        if (flags.wait && final.state === 'cancelled') cli.exitCode = 1;
      });
    });
}
