/**
 * The demo process (`newsletter demo`): the whole path on a machine with only Redis. Clears
 * its own key prefix, captures mail in-process into outbox/<run>/ as .eml files, imports
 * sample subscribers through the CSV import, sends the example post as a campaign through
 * real delivery worker processes with the progress bar, and stops everything it started.
 * It runs to the end rather than until a signal; Ctrl-C still stops its workers.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Campaign } from '../campaign/campaign.ts';
import type { CampaignStore } from '../campaign/campaign-store.ts';
import { loadConfig } from '../config.ts';
import { NewsletterError } from '../errors.ts';
import { campaignDeps, sendIssue } from '../operations/campaign-operations.ts';
import { importSubscribersCsv } from '../operations/subscriber-operations.ts';
import { parseCapturedMessage, unsubscribeUrlOf } from '../preview/captured-message.ts';
import { OUTBOX_DIR } from '../preview/outbox.ts';
import { renderPostFile } from '../render/render-post-file.ts';
import { startCaptureSmtpServer, type CaptureSmtpServer } from '../demo/capture-smtp-server.ts';
import { clearPrefix } from '../demo/clear-prefix.ts';
import { DeliveryWorkerChildren } from '../demo/delivery-worker-children.ts';
import { sampleSubscribersCsv } from '../demo/sample-subscribers.ts';
import { openLocalApp } from './local-app.ts';

export const DEMO_POST = 'emails/posts/sofa-weekly-2019-11-01.md';
export const DEMO_PREFIX = 'newsletter-demo';
export const DEMO_LIST = 'weekly';

export interface DemoOptions {
  /** Every key under it is deleted first, so it must contain "demo". */
  prefix?: string;
  outboxDir?: string;
  subscribers?: number;
  workers?: number;
  post?: string;
  /** The settings, as the command's environment has them (the demo's own prefix, secret and SMTP replace those). */
  env: NodeJS.ProcessEnv;
  /** Where the step-by-step lines go. */
  say?: (line: string) => void;
  /** Waits for the campaign to end, showing what it likes (the CLI: the progress bar of `send --wait`). */
  watch: (campaigns: CampaignStore, campaignId: string) => Promise<Campaign>;
}

export interface DemoResult {
  prefix: string;
  cleared: number;
  runDir: string;
  csvFile: string;
  files: string[];
  campaign: Campaign;
  unsubscribeUrl: string | undefined;
  seconds: number;
  /** No Redis answered, so the demo ran on a private one, gone now with its data. */
  privateRedis: boolean;
}

/**
 * The settings parent and workers share: the demo's prefix, the public development secret, no
 * rate limit, no real SMTP, and none of the settings of parts it does not run (an admin token
 * or a bounce domain meant for the real thing must not stop the demo).
 */
function demoEnv(env: NodeJS.ProcessEnv, prefix: string): NodeJS.ProcessEnv {
  const {
    NEWSLETTER_SECRET: _s,
    NEWSLETTER_PREVIOUS_SECRET: _p,
    SMTP_URL: _u,
    NEWSLETTER_ADMIN_TOKEN: _t,
    BOUNCE_DOMAIN: _b,
    BOUNCE_IMAP_URL: _i,
    ...rest
  } = env;
  return { ...rest, REDIS_PREFIX: prefix, NEWSLETTER_DEV_MODE: '1', SEND_RATE_PER_SECOND: '0' };
}

/** outbox/demo-20240501-101112, or -2, -3… when a run in the same second made it already. */
async function makeRunDir(outboxDir: string, now: Date): Promise<string> {
  await mkdir(outboxDir, { recursive: true });
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-');
  for (let n = 1; ; n++) {
    const dir = join(outboxDir, `demo-${stamp}${n > 1 ? `-${n}` : ''}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { prefix = DEMO_PREFIX, outboxDir = OUTBOX_DIR, subscribers = 100, workers = 2, post = DEMO_POST, env, say = () => {} } = options;
  if (!/demo/i.test(prefix)) {
    throw new NewsletterError('INPUT_INVALID', `the demo deletes every key under its prefix, so the prefix must contain "demo" (got "${prefix}")`, {
      field: '--prefix',
    });
  }
  const started = Date.now();
  const sharedEnv = demoEnv(env, prefix);
  const config = loadConfig({ env: sharedEnv });
  const app = await openLocalApp(config, { say, path: env.PATH });
  let capture: CaptureSmtpServer | undefined;
  let fleet: DeliveryWorkerChildren | undefined;
  try {
    const cleared = await clearPrefix(app.redis, prefix);
    say(`keys under "${prefix}:" in Redis${cleared ? ` (${cleared} left by the last run deleted)` : ''}`);
    const runDir = await makeRunDir(outboxDir, new Date());
    capture = await startCaptureSmtpServer({ dir: runDir });
    say(`capturing mail at ${capture.url} into ${runDir}/`);
    // Workers take a second or two to load; they start while the subscribers go in.
    fleet = new DeliveryWorkerChildren(workers, { ...sharedEnv, REDIS_URL: app.config.redis.url, SMTP_URL: capture.url });

    const csvFile = join(runDir, 'subscribers.csv');
    await writeFile(csvFile, sampleSubscribersCsv(subscribers));
    // The same code as `newsletter subscribers import` and the admin API's CSV upload.
    const report = await importSubscribersCsv(app.subscribers, createReadStream(csvFile), { file: csvFile, list: DEMO_LIST });
    if (report.rejectedTotal > 0) throw new Error(`sample subscriber rejected: ${csvFile}:${report.rejected[0]!.line}: ${report.rejected[0]!.reason}`);
    say(`imported ${report.imported} sample subscribers into the list "${DEMO_LIST}" from ${csvFile}`);

    const issue = await renderPostFile(post, { identity: config.identity });
    const queue = app.deliveryQueue();
    await fleet.waitUntilJoined(() => queue.getWorkersCount());
    say(`started ${workers} delivery worker processes (pids ${fleet.pids.join(', ')})`);
    // The same code as `newsletter send --list` and the admin API.
    const sent = await sendIssue(campaignDeps(app), issue, { list: DEMO_LIST });
    if (sent.kind !== 'campaign') throw new Error(`expected a campaign, got ${sent.kind}`);
    const enqueued = sent.campaign;
    say(`campaign ${enqueued.id}: "${issue.subject}" to ${enqueued.total} subscribers`);
    const waiting = options.watch(app.campaigns, enqueued.id);
    waiting.catch(() => {}); // when a worker dies first, the race below reports that instead
    const campaign = await Promise.race([waiting, fleet.died]);

    const codes = await fleet.stop();
    if (codes.some((code) => code !== 0)) throw new Error(`a delivery worker did not stop cleanly (exit codes ${codes.join(', ')})`);
    const files = [...capture.files];
    const first = files[0] ? parseCapturedMessage(await readFile(files[0], 'utf8')) : undefined;
    return {
      prefix,
      cleared,
      runDir,
      csvFile,
      files,
      campaign,
      unsubscribeUrl: first && unsubscribeUrlOf(first),
      seconds: (Date.now() - started) / 1000,
      privateRedis: app.config.redis.url !== config.redis.url,
    };
  } finally {
    await fleet?.stop();
    await capture?.close();
    await app.close();
  }
}

/** What to look at next, for people: the outbox, one message, the preview, an unsubscribe link. */
export function demoSummary(result: DemoResult, cwd = process.cwd()): string[] {
  const { campaign, files, prefix } = result;
  const shown = (path: string) => (resolve(path).startsWith(resolve(cwd)) ? resolve(path).slice(resolve(cwd).length + 1) : path);
  const lines = [
    '',
    `Done in ${result.seconds.toFixed(1)} s: campaign ${campaign.id} ${campaign.state}, ${campaign.accepted} accepted, ${campaign.failed} failed, ${campaign.skipped} skipped of ${campaign.total}.`,
    '',
    'Where to look:',
    `  ${shown(result.runDir)}/  ${files.length} messages as .eml files, one per subscriber (any mail client opens them)`,
  ];
  if (files[0]) lines.push(`  ${shown(files[0])}  one of them`);
  lines.push('  npx newsletter preview  the Outbox section lists them; a message shows its HTML, text and headers');
  if (result.privateRedis) {
    // The subscribers and the campaign were in the private Redis, gone with the run.
    lines.push('  (no Redis was running, so this run used a private one, gone now: start redis-server to keep the data and click the links)');
    return lines;
  }
  if (result.unsubscribeUrl) {
    lines.push(
      `  ${result.unsubscribeUrl}`,
      `    that message's unsubscribe link (signed with the public development secret); to click it, run`,
      `    NEWSLETTER_DEV_MODE=1 REDIS_PREFIX=${prefix} npx newsletter server`,
    );
  }
  lines.push(`  REDIS_PREFIX=${prefix} npx newsletter campaign status ${campaign.id}  the campaign's counters`);
  return lines;
}
