/**
 * npm run bench:send: 20,000 recipients of the seed issue to Postfix smtp-sink through 2
 * worker processes, against a hand-written nodemailer pooled sendMail loop and against
 * Postfix smtp-source (the ceiling). Prints msg/s, ratios and Redis bytes per queued recipient.
 * BENCH_RECIPIENTS overrides the count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.ts';
import { enqueueCampaign } from '../src/campaign/enqueue-campaign.ts';
import { planCampaign } from '../src/campaign/plan.ts';
import { loadConfig } from '../src/config.ts';
import { clearPrefix } from '../src/demo/clear-prefix.ts';
import { recipientLinks } from '../src/delivery/recipient-links.ts';
import { buildMessageTemplate, messageIdFor, personalise } from '../src/delivery/message-template.ts';
import { renderPostFile } from '../src/render/render-post-file.ts';
import { DEV_SECRET } from '../src/subscribers/signing-secrets.ts';
import { timeNodemailerLoop } from './send-loop.ts';
import { ensurePostfixTools, startSmtpSink, timeSmtpSource } from './send-postfix.ts';

const N = Number(process.env.BENCH_RECIPIENTS ?? 20_000);
const WORKERS = 2;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 5); // per worker process
const POST = 'emails/posts/sofa-weekly-2019-11-01.md';
const log = (line: string) => process.stderr.write(`${line}\n`);

ensurePostfixTools(log);
const sink = await startSmtpSink();
const prefix = `bench:send:${randomBytes(4).toString('hex')}`;
const env = {
  ...process.env,
  REDIS_PREFIX: prefix,
  SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
  NEWSLETTER_DEV_MODE: '1',
  SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
  WORKER_CONCURRENCY: process.env.BENCH_IN_FLIGHT ?? String(CONNECTIONS * 2),
  SEND_RATE_PER_SECOND: '0',
} as Record<string, string>;
const config = loadConfig({ env });
const app = await createApp(config, { warn: log });
const issue = await renderPostFile(POST, { identity: config.identity });

log(`adding ${N} subscribers under ${prefix} ...`);
const recipients: { id: string; email: string }[] = [];
for (let i = 0; i < N; i += 1000) {
  const inputs = Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ email: `reader${i + j}@example.org`, lists: ['bench'] }));
  recipients.push(...(await app.subscribers.addMany(inputs)).map((r) => ({ id: r.subscriber.id, email: r.subscriber.email })));
}
const deps = { campaigns: app.campaigns, queue: app.deliveryQueue(), directory: app.subscribers, now: () => new Date() };

async function keyBytes(match: string, skip: string): Promise<number> {
  let cursor = '0';
  let bytes = 0;
  do {
    const [next, keys] = await app.redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    for (const key of keys.filter((k) => !k.startsWith(skip))) bytes += Number((await app.redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
  } while (cursor !== '0');
  return bytes;
}

// 1. Redis per queued recipient: a campaign enqueued with no worker running.
const subscriberKeys = `${prefix}:{${prefix}}:sub`;
const before = await keyBytes(`${prefix}:*`, subscriberKeys);
await enqueueCampaign(deps, { issue: { ...issue, slug: 'bench-memory' }, list: 'bench', publicUrl: config.http.publicUrl });
const queuedBytes = (await keyBytes(`${prefix}:*`, subscriberKeys)) - before;
await deps.queue.drain(true);
await app.redis.del(...Object.values(app.campaigns.keys('bench-memory--bench')));

// 2. The newsletter: send = enqueue + delivery by 2 worker processes (started and ready first).
const workers: ChildProcess[] = [];
await Promise.all(
  Array.from({ length: WORKERS }, () => {
    // Workers log JSON lines on stdout (read to the end, so a full pipe never stalls them); errors show on stderr.
    const child = spawn(process.execPath, ['bin/run-ts.js', 'workers/delivery-worker.ts'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    workers.push(child);
    return new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => /"worker ready"/.test(c.toString()) && resolve()));
  }),
);
// smtp-source with our exact message and the same connections is the ceiling. Its runs alternate
// with ours, so load from anything else on the machine hits both alike.
const { snapshot } = planCampaign({ issue, list: 'bench', now: new Date(), publicUrl: config.http.publicUrl });
const template = buildMessageTemplate({ issue: snapshot, identity: config.identity, campaignId: 'bench-source', date: new Date(), viewUrl: snapshot.viewUrl });
const links = recipientLinks(DEV_SECRET, config.http.publicUrl, config.identity)(recipients[0]!.id);
const raw = personalise(template, {
  to: recipients[0]!.email,
  messageId: messageIdFor('bench-source', recipients[0]!.id, config.identity.fromAddress),
  ...links,
});
const file = join(tmpdir(), `bench-send-${process.pid}.eml`);
writeFileSync(file, raw.toString('utf8').replace(/\r\n/g, '\n'));
const RUNS = 3;
const sourceRuns: number[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const oursRuns: number[] = [];
let ledgerBytes = 0;
for (let run = 1; run <= RUNS; run++) {
  log(`sending through ${WORKERS} worker processes (run ${run} of ${RUNS}) ...`);
  const started = process.hrtime.bigint();
  const campaign = await enqueueCampaign(deps, { issue: { ...issue, slug: `bench-run-${run}` }, list: 'bench', publicUrl: config.http.publicUrl });
  let done = await app.campaigns.require(campaign.id);
  while (done.state !== 'completed') {
    await new Promise((resolve) => setTimeout(resolve, 20));
    done = await app.campaigns.require(campaign.id);
  }
  oursRuns.push(Number(process.hrtime.bigint() - started) / 1e9);
  if (done.accepted !== N) throw new Error(`expected ${N} accepted, got ${JSON.stringify(done)}`);
  ledgerBytes = Number((await app.redis.memory('USAGE', app.campaigns.keys(campaign.id).ledger, 'SAMPLES', 0)) ?? 0);
  log(`smtp-source (run ${run} of ${RUNS}) ...`);
  sourceRuns.push(timeSmtpSource(sink.port, file, N, WORKERS * CONNECTIONS));
}
const oursSeconds = median(oursRuns);
const sourceSeconds = median(sourceRuns);
await Promise.all(
  workers.map(
    (w) =>
      new Promise((resolve) => {
        w.on('exit', resolve);
        w.kill('SIGTERM');
      }),
  ),
);

// 3. The hand-written loop, same recipients, same total connections, one process.
log('hand-written nodemailer loop ...');
const loopSeconds = await timeNodemailerLoop({
  port: sink.port,
  issue,
  identity: config.identity,
  recipients,
  connections: WORKERS * CONNECTIONS,
  secret: DEV_SECRET,
  publicUrl: config.http.publicUrl,
});

const rate = (seconds: number) => N / seconds;
const results = {
  recipients: N,
  messageBytes: Buffer.byteLength(raw),
  newsletterMsgPerSec: Math.round(rate(oursSeconds)),
  loopMsgPerSec: Math.round(rate(loopSeconds)),
  smtpSourceMsgPerSec: Math.round(rate(sourceSeconds)),
  vsLoop: Number((loopSeconds / oursSeconds).toFixed(2)),
  vsSmtpSource: Number((sourceSeconds / oursSeconds).toFixed(2)),
  redisBytesPerQueuedRecipient: Math.round(queuedBytes / N),
  ledgerBytesPerRecipient: Math.round(ledgerBytes / N),
};
const check = (ok: boolean) => (ok ? 'ok' : 'MISSED');
console.log(`
send benchmark: ${N} recipients, seed issue (${results.messageBytes} bytes), Postfix smtp-sink on loopback; medians of ${RUNS} runs
  newsletter, ${WORKERS} worker processes x ${CONNECTIONS} connections  ${results.newsletterMsgPerSec} msg/s  (${oursSeconds.toFixed(2)} s, enqueue included; runs ${oursRuns.map((x) => x.toFixed(2)).join(', ')} s)
  hand-written nodemailer pooled sendMail loop (${WORKERS * CONNECTIONS} connections, one run)  ${results.loopMsgPerSec} msg/s  (${loopSeconds.toFixed(2)} s)
  Postfix smtp-source (${WORKERS * CONNECTIONS} sessions, same message)  ${results.smtpSourceMsgPerSec} msg/s  (${sourceSeconds.toFixed(2)} s; runs ${sourceRuns.map((x) => x.toFixed(2)).join(', ')} s)
  newsletter / loop        ${results.vsLoop}x   (target >= 2.5x: ${check(results.vsLoop >= 2.5)})
  newsletter / smtp-source ${results.vsSmtpSource}x   (target >= 0.5x: ${check(results.vsSmtpSource >= 0.5)})
  Redis per queued recipient ${results.redisBytesPerQueuedRecipient} bytes   (target <= 150: ${check(results.redisBytesPerQueuedRecipient <= 150)})
  Redis ledger kept per recipient once sent ${results.ledgerBytesPerRecipient} bytes
${JSON.stringify(results)}`);

// Clean up: every key of this run, the sink, the app.
await clearPrefix(app.redis, prefix);
await app.close();
sink.stop();
process.exit(0);
