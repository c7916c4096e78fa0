import type { Command } from 'commander';
import { planCampaign } from '../../campaign/plan.ts';
import { enqueueCampaign } from '../../campaign/enqueue-campaign.ts';
import { loadConfig } from '../../config.ts';
import { sendTestMessage } from '../../delivery/send-test-message.ts';
import { NewsletterError } from '../../errors.ts';
import { renderPostFile } from '../../render/render-post-file.ts';
import { normalizeEmail } from '../../subscribers/email-address.ts';
import { signingSecrets } from '../../subscribers/signing-secrets.ts';
import { canReceive, parseListName } from '../../subscribers/subscriber.ts';
import { waitWithProgress } from './campaign-progress.ts';
import { printFailures } from './campaign.ts';
import { printWarnings, withApp, writeLine } from '../command-helpers.ts';

interface SendFlags {
  list?: string;
  testTo?: string;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
  baseUrl?: string;
}

export function registerSendCommand(program: Command): void {
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
    .action(async (file: string, flags: SendFlags) => {
      const list = flags.list === undefined ? undefined : parseListName(flags.list, { field: '--list' });
      const testTo = flags.testTo === undefined ? undefined : normalizeEmail(flags.testTo, { field: '--test-to' });
      if (!list && !testTo) throw new NewsletterError('INPUT_INVALID', 'name the list to send to (or --test-to ADDRESS)', { field: '--list' });
      const config = loadConfig();
      const issue = await renderPostFile(file, { identity: config.identity, baseUrl: flags.baseUrl });
      printWarnings(file, issue.warnings);
      await withApp(async (app) => {
        if (flags.dryRun) {
          let recipients = 0;
          if (list) for await (const batch of app.subscribers.iterateSubscribers(list, 1000)) recipients += batch.filter(canReceive).length;
          const summary = { dryRun: true, slug: issue.slug, subject: issue.subject, list: list ?? null, recipients, warnings: issue.warnings.length };
          if (flags.json) return writeLine(JSON.stringify(summary));
          return writeLine(`dry run: "${issue.subject}" would go to ${recipients} active subscriber(s) of ${list ?? '(no list)'}; ${issue.warnings.length} warning(s); nothing sent`);
        }
        const { snapshot } = planCampaign({ issue, list: list ?? 'test', now: new Date(), publicUrl: config.http.publicUrl });
        if (testTo) {
          const subscriber = await app.subscribers.getByEmail(testTo);
          const reply = await sendTestMessage(
            { transport: app.smtpPool(), identity: config.identity, secrets: signingSecrets(config), publicUrl: config.http.publicUrl },
            { issue: snapshot, to: testTo, subscriberId: subscriber?.id, now: new Date() },
          );
          if (flags.json) return writeLine(JSON.stringify({ test: true, to: testTo, reply }));
          return writeLine(`test message sent to ${testTo}: ${reply}`);
        }
        const queue = app.deliveryQueue();
        const campaign = await enqueueCampaign({ campaigns: app.campaigns, queue, directory: app.subscribers, now: () => new Date() }, { issue, list: list!, publicUrl: config.http.publicUrl });
        if (!flags.json) writeLine(`campaign ${campaign.id}: ${campaign.total} recipient(s) queued`);
        if ((await queue.getWorkersCount()) === 0) {
          process.stderr.write('warning: no delivery worker is running; start one with `newsletter worker`\n');
        }
        const final = flags.wait ? await waitWithProgress(app.campaigns, campaign.id) : campaign;
        const { id: campaignId, total, accepted, failed, skipped } = final;
        if (flags.json) writeLine(JSON.stringify({ campaignId, total, accepted, failed, skipped }));
        else if (flags.wait) {
          writeLine(`campaign ${campaignId} ${final.state}: ${accepted} accepted, ${failed} failed, ${skipped} skipped of ${total}`);
          if (failed > 0) await printFailures(app, campaignId, 20);
        }
        if (flags.wait && final.state === 'cancelled') process.exitCode = 1;
      });
    });
}
