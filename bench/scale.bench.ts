/**
 * npm run bench:scale [-- --subscribers 1000000 --deliver 200000 --persistence aof|none --phase all|memory]
 *
 * A million-subscriber run against a redis-server of its own (a free port, its own temp
 * directory, maxmemory-policy noeviction; never the shared Redis):
 *   1. import a generated CSV through importCsv, the code `newsletter subscribers import` runs,
 *      into one list: Redis bytes per subscriber on one list;
 *   2. enqueue a campaign of the seed issue to all of them (enqueueCampaign, the code of `send`),
 *      sampling Redis memory while it runs: the campaign's own bytes per recipient;
 *   3. deliver the first --deliver of that campaign to Postfix smtp-sink through 2 worker
 *      processes, sampling their RSS every 2 s; then stop the workers and cancel the campaign
 *      (the rest of the million is enqueued but never sent) (scale-deliver.ts). `--phase memory`
 *      skips this step (no smtp-sink, no workers): the memory figures alone, in about a minute;
 *   4. in a second, fresh redis-server, import the same subscribers onto three lists that
 *      overlap (scale-three-lists.ts): Redis bytes per subscriber on three lists. Its own
 *      server, so the two used_memory deltas never mix.
 * The memory figures (issue 18) open the summary. Not part of CI: a full run takes minutes.
 * Progress goes to stderr, the summary to stdout.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createApp, type App } from '../src/app.ts';
import { enqueueCampaign } from '../src/campaign/enqueue-campaign.ts';
import { loadConfig } from '../src/config.ts';
import { renderPostFile } from '../src/render/render-post-file.ts';
import { importCsv } from '../src/subscribers/import-csv.ts';
import { startPrivateRedisServer, type PrivateRedisOptions } from '../src/redis/private-redis-server.ts';
import { redisInfoNumber, startSampler, usedMemory } from './probes.ts';
import { deliverFirst, type DeliverResult } from './scale-deliver.ts';
import { THREE_LISTS_DESCRIPTION, measureThreeLists } from './scale-three-lists.ts';
import { ensurePostfixTools, startSmtpSink } from './send-postfix.ts';
import { writeSubscribersCsv } from './subscribers-csv.ts';

const { values: flags } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000000' },
    deliver: { type: 'string', default: '200000' },
    persistence: { type: 'string', default: 'aof' },
    // `memory`: steps 1, 2 and 4 only (nothing delivered).
    phase: { type: 'string', default: 'all' },
  },
});
const N = Number(flags.subscribers);
const DELIVER = Math.min(Number(flags.deliver), N);
if (
  !Number.isInteger(N) ||
  N < 1 ||
  !Number.isInteger(DELIVER) ||
  DELIVER < 1 ||
  !['aof', 'none'].includes(flags.persistence!) ||
  !['all', 'memory'].includes(flags.phase!)
) {
  process.stderr.write('usage: npm run bench:scale -- [--subscribers N] [--deliver M] [--persistence aof|none] [--phase all|memory]\n');
  process.exit(2);
}
const PERSISTENCE: { options: PrivateRedisOptions; label: string } =
  flags.persistence === 'aof'
    ? { options: { appendfsync: 'everysec' }, label: 'AOF on, appendfsync everysec, no RDB snapshots' }
    : { options: {}, label: 'no persistence (no AOF, no RDB)' };
const DELIVERS = flags.phase === 'all';
const WORKERS = 2;
const CONNECTIONS = 5; // per worker, as in bench:send
const LIST = 'scale';
const POST = 'emails/posts/sofa-weekly-2019-11-01.md';
const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () => loadavg()[0]!.toFixed(1);
const fmt = (n: number, digits = 0) => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const MB = (bytes: number) => fmt(bytes / 1024 / 1024, 1);
const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

if (DELIVERS) ensurePostfixTools(log);
const file = join(tmpdir(), `newsletter-scale-${process.pid}.csv`);
// Everything started below is stopped in `finally`, whatever fails on the way.
const redisServer = await startPrivateRedisServer(PERSISTENCE.options);
// INFO on its own connection, so a sample never waits behind the commands it measures.
const probe = new Redis(redisServer.url);
let sink: Awaited<ReturnType<typeof startSmtpSink>> | undefined;
let app: App | undefined;
let redisVersion: string;
let one: {
  importSeconds: number;
  importLoad: string;
  usedBytes: number;
  enqueueSeconds: number;
  enqueueLoad: string;
  peak: number;
  settled: number;
  usedMemoryPeak: number;
};
let delivered: DeliverResult | undefined;
try {
  sink = DELIVERS ? await startSmtpSink() : undefined;
  const env = {
    ...process.env,
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: 'scale',
    // Memory only: no sink, and nothing connects to this port.
    SMTP_URL: `smtp://127.0.0.1:${sink?.port ?? 25}`,
    NEWSLETTER_DEV_MODE: '1',
    SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
    WORKER_CONCURRENCY: String(CONNECTIONS * 2),
    SEND_RATE_PER_SECOND: '0',
  } as Record<string, string>;
  const config = loadConfig({ env });
  app = await createApp(config, { warn: log });
  redisVersion = /^redis_version:(\S+)/m.exec(await probe.info('server'))![1]!;
  log(`own redis-server ${redisVersion} at ${redisServer.url} (${PERSISTENCE.label}); writing ${fmt(N)} rows to ${file} ...`);
  await writeSubscribersCsv(file, N);

  // 1. Import.
  const importLoad = load();
  const beforeImport = await usedMemory(probe);
  let started = process.hrtime.bigint();
  let logged = 0;
  const report = await importCsv(app.subscribers, createReadStream(file), {
    file,
    list: LIST,
    onProgress: (rows) => {
      if (rows - logged < 100_000) return;
      logged = rows;
      log(`  imported ${fmt(rows)} rows, ${fmt(rows / seconds(started))} rows/s`);
    },
  });
  const importSeconds = seconds(started);
  if (report.imported !== N || report.rejectedTotal)
    throw new Error(`import: expected ${N} new rows, got ${JSON.stringify({ ...report, rejected: report.rejected.slice(0, 3) })}`);
  const afterImport = await usedMemory(probe);
  log(`import: ${importSeconds.toFixed(1)} s`);

  // 2. Enqueue a campaign to all of them.
  const issue = await renderPostFile(POST, { identity: config.identity });
  const queue = app.deliveryQueue();
  const deps = { campaigns: app.campaigns, queue, directory: app.subscribers, now: () => new Date() };
  const enqueueLoad = load();
  const memory = startSampler(100, () => usedMemory(probe));
  started = process.hrtime.bigint();
  const campaign = await enqueueCampaign(deps, { issue, list: LIST, publicUrl: config.http.publicUrl });
  const enqueueSeconds = seconds(started);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const memorySamples = await memory.stop();
  if (campaign.total !== N) throw new Error(`enqueue: expected ${N} recipients, got ${campaign.total}`);
  one = {
    importSeconds,
    importLoad,
    usedBytes: afterImport - beforeImport,
    enqueueSeconds,
    enqueueLoad,
    peak: (Math.max(...memorySamples.map((s) => s.value)) - afterImport) / N,
    settled: (memorySamples.at(-1)!.value - afterImport) / N,
    usedMemoryPeak: ((await redisInfoNumber(probe, 'memory', 'used_memory_peak')) - afterImport) / N,
  };
  log(`enqueue: ${enqueueSeconds.toFixed(1)} s, ${campaign.batches} batch jobs`);

  // 3. Deliver the first DELIVER.
  if (DELIVERS) delivered = await deliverFirst({ app, env, campaignId: campaign.id, deps, deliver: DELIVER, workerCount: WORKERS, log });
} finally {
  probe.disconnect();
  await app?.close();
  sink?.stop();
  await redisServer.stop();
  await rm(file, { force: true });
}

// 4. Three lists that overlap, in a fresh redis-server (this one is stopped: ~1 GB freed first).
const threeLoad = load();
const three = await measureThreeLists({ subscribers: N, file, redisOptions: PERSISTENCE.options, log });
const perSubscriberOne = one.usedBytes / N;
const perSubscriberThree = three.bytesPerSubscriber;
// What each list membership beyond the first costs, from the two runs.
const perExtraMembership = (three.usedBytes - one.usedBytes) / (three.memberships - N);

const results = {
  subscribers: N,
  phase: flags.phase,
  importSeconds: Number(one.importSeconds.toFixed(2)),
  importRowsPerSecond: Math.round(N / one.importSeconds),
  redisBytesPerSubscriber: Math.round(perSubscriberOne),
  redisBytesPerSubscriberThreeLists: Math.round(perSubscriberThree),
  threeListsMemberships: three.memberships,
  threeListsImports: three.imports.map((i) => ({ ...i, seconds: Number(i.seconds.toFixed(2)) })),
  enqueueSeconds: Number(one.enqueueSeconds.toFixed(2)),
  campaignPeakBytesPerRecipient: Math.round(one.peak),
  campaignSettledBytesPerRecipient: Math.round(one.settled),
  redisUsedMemoryPeakBytesPerRecipient: Math.round(one.usedMemoryPeak),
  ...(delivered && {
    delivered: delivered.accepted,
    deliverSeconds: Number(delivered.seconds.toFixed(2)),
    msgPerSecond: Math.round(delivered.accepted / delivered.seconds),
    workerRssMB: delivered.perWorker.map((w) => ({
      pid: w.pid,
      start: Math.round(w.startMB),
      median: Math.round(w.medianMB),
      max: Math.round(w.maxMB),
      end: Math.round(w.endMB),
      growth: Math.round(w.growthMB),
    })),
  }),
};

const deliveryRows = delivered
  ? [
      `| deliver ${fmt(delivered.accepted)} of them, ${WORKERS} workers x ${CONNECTIONS} connections, smtp-sink | ${fmt(delivered.accepted / delivered.seconds)} msg/s (${delivered.seconds.toFixed(1)} s) | (record) | ${delivered.load} |`,
      ...delivered.perWorker.map(
        (w) =>
          `| worker ${w.pid} RSS start / median / max / end; warm first third -> last third | ${[w.startMB, w.medianMB, w.maxMB, w.endMB].map((x) => x.toFixed(0)).join(' / ')} MB; ${Number.isNaN(w.growthMB) ? 'too short to say' : `${w.growthMB >= 0 ? '+' : ''}${w.growthMB.toFixed(0)} MB`} | flat | |`,
      ),
    ]
  : [];
const deliveryNotes = delivered
  ? `
Worker RSS every ~2 s (MB, one column per worker): ${delivered.rssSamples.map((s) => `${s.at.toFixed(0)}s ${s.value.map((b) => (b / 1024 / 1024).toFixed(0)).join('/')}`).join(', ')}
After the workers stopped: ${fmt(delivered.afterStop.accepted)} accepted, ${delivered.afterStop.failed} failed; the campaign is now ${delivered.cancelled.state} (the other ${fmt(N - delivered.afterStop.accepted)} recipients were enqueued, not sent).`
  : `
Memory only (--phase memory): the campaign was enqueued, nothing delivered.`;

// The summary: copy from here.
console.log(`
## bench:scale summary
${new Date().toISOString()}; ${cpus().length} x ${cpus()[0]?.model.trim()}; Node ${process.version}; own redis-server ${redisVersion!} (${PERSISTENCE.label}; maxmemory-policy noeviction)
Command: npm run bench:scale -- --subscribers ${N}${DELIVERS ? ` --deliver ${DELIVER}` : ''} --persistence ${flags.persistence} --phase ${flags.phase}

Redis memory per subscriber (issue 18: at most 300 bytes), ${fmt(N)} subscribers, used_memory delta / N:
${[
  [`one list (all on \`${LIST}\`)`, `${fmt(perSubscriberOne)} bytes per subscriber (${MB(one.usedBytes)} MB; load ${one.importLoad})`],
  [
    `three lists (${fmt(three.memberships / N, 2)} lists each)`,
    `${fmt(perSubscriberThree)} bytes per subscriber (${MB(three.usedBytes)} MB; load ${threeLoad})`,
  ],
  ['campaign, 1 s after enqueue / peak', `${fmt(one.settled)} / ${fmt(Math.max(one.peak, one.usedMemoryPeak))} bytes per recipient`],
]
  .map(([label, value]) => `  ${`${label}:`.padEnd(40)}${value}`)
  .join('\n')}
Three lists: ${THREE_LISTS_DESCRIPTION}: ${fmt(three.memberships)} memberships; each beyond the first costs ${fmt(perExtraMembership)} bytes (against the one-list run).

| what | measured | target | load (1 min) |
|:--|--:|:--|--:|
| import ${fmt(N)} rows (importCsv, as \`subscribers import\`) | ${fmt(results.importRowsPerSecond)} rows/s (${one.importSeconds.toFixed(1)} s) | >= 50,000 rows/s: ${verdict(results.importRowsPerSecond >= 50_000)} | ${one.importLoad} |
| Redis used_memory per subscriber, one list | ${results.redisBytesPerSubscriber} bytes (${MB(one.usedBytes)} MB) | <= 300: ${verdict(perSubscriberOne <= 300)} | |
| Redis used_memory per subscriber, three lists (own redis-server; ${three.imports.map((i) => `${i.list} ${i.seconds.toFixed(1)} s`).join(', ')}) | ${results.redisBytesPerSubscriberThreeLists} bytes (${MB(three.usedBytes)} MB) | <= 300: ${verdict(perSubscriberThree <= 300)} | ${threeLoad} |
| enqueue a campaign to ${fmt(N)} (enqueueCampaign, as \`send\`) | ${one.enqueueSeconds.toFixed(1)} s, ${fmt(N / one.enqueueSeconds)} recipients/s | <= 10 s: ${verdict(one.enqueueSeconds <= 10)} | ${one.enqueueLoad} |
| campaign overhead in Redis, peak while enqueuing (used_memory sampled every 100 ms) | ${results.campaignPeakBytesPerRecipient} bytes per recipient | <= 30 (issue 18): ${verdict(one.peak <= 30)} | |
| campaign overhead in Redis, 1 s after enqueue / INFO used_memory_peak | ${results.campaignSettledBytesPerRecipient} / ${results.redisUsedMemoryPeakBytesPerRecipient} bytes per recipient | <= 30 (issue 18): ${verdict(Math.max(one.settled, one.usedMemoryPeak) <= 30)} | |
${deliveryRows.join('\n')}
${deliveryNotes}
${JSON.stringify(results)}`);
