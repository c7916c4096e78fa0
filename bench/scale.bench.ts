/**
 * npm run bench:scale [-- --subscribers 1000000 --deliver 200000 --persistence aof|none]
 *
 * A million-subscriber run against a redis-server of its own (a free port, its own temp
 * directory, maxmemory-policy noeviction; never the shared Redis):
 *   1. import a generated CSV through importCsv, the code `newsletter subscribers import` runs;
 *   2. enqueue a campaign of the seed issue to all of them (enqueueCampaign, the code of `send`),
 *      sampling Redis memory while it runs;
 *   3. deliver the first --deliver of that campaign to Postfix smtp-sink through 2 worker
 *      processes, sampling their RSS every 2 s; then stop the workers and cancel the campaign
 *      (the rest of the million is enqueued but never sent).
 * Not part of CI: a full run takes minutes. Progress goes to stderr, the summary to stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createApp, type App } from '../src/app.ts';
import { cancelCampaign } from '../src/campaign/campaign-controls.ts';
import { isFinished } from '../src/campaign/campaign.ts';
import { enqueueCampaign } from '../src/campaign/enqueue-campaign.ts';
import { loadConfig } from '../src/config.ts';
import { renderPostFile } from '../src/render/render-post-file.ts';
import { importCsv } from '../src/subscribers/import-csv.ts';
import { startPrivateRedisServer, type PrivateRedisOptions } from '../src/redis/private-redis-server.ts';
import { median, redisInfoNumber, residentBytes, startSampler, usedMemory } from './probes.ts';
import { ensurePostfixTools, startSmtpSink } from './send-postfix.ts';
import { writeSubscribersCsv } from './subscribers-csv.ts';

const { values: flags } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000000' },
    deliver: { type: 'string', default: '200000' },
    persistence: { type: 'string', default: 'aof' },
  },
});
const N = Number(flags.subscribers);
const DELIVER = Math.min(Number(flags.deliver), N);
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(DELIVER) || DELIVER < 1 || !['aof', 'none'].includes(flags.persistence!)) {
  process.stderr.write('usage: npm run bench:scale -- [--subscribers N] [--deliver M] [--persistence aof|none]\n');
  process.exit(2);
}
const PERSISTENCE: { options: PrivateRedisOptions; label: string } =
  flags.persistence === 'aof'
    ? { options: { appendfsync: 'everysec' }, label: 'AOF on, appendfsync everysec, no RDB snapshots' }
    : { options: {}, label: 'no persistence (no AOF, no RDB)' };
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

ensurePostfixTools(log);
const file = join(tmpdir(), `newsletter-scale-${process.pid}.csv`);
const workers: ChildProcess[] = [];
// Everything started below is stopped in `finally`, whatever fails on the way.
const redisServer = await startPrivateRedisServer(PERSISTENCE.options);
// INFO on its own connection, so a sample never waits behind the commands it measures.
const probe = new Redis(redisServer.url);
let sink: Awaited<ReturnType<typeof startSmtpSink>> | undefined;
let app: App | undefined;
try {
  sink = await startSmtpSink();
  const env = {
    ...process.env,
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: 'scale',
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    NEWSLETTER_DEV_MODE: '1',
    SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
    WORKER_CONCURRENCY: String(CONNECTIONS * 2),
    SEND_RATE_PER_SECOND: '0',
  } as Record<string, string>;
  const config = loadConfig({ env });
  app = await createApp(config, { warn: log });
  const redisVersion = /^redis_version:(\S+)/m.exec(await probe.info('server'))![1];
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
  const peakPerRecipient = (Math.max(...memorySamples.map((s) => s.value)) - afterImport) / N;
  const settledPerRecipient = (memorySamples.at(-1)!.value - afterImport) / N;
  const redisPeakPerRecipient = ((await redisInfoNumber(probe, 'memory', 'used_memory_peak')) - afterImport) / N;
  log(`enqueue: ${enqueueSeconds.toFixed(1)} s, ${campaign.batches} batch jobs`);

  // 3. Deliver the first DELIVER with 2 worker processes, started and ready first.
  await Promise.all(
    Array.from({ length: WORKERS }, () => {
      // Workers log JSON lines on stdout: read to the end (a full pipe would stall them), shown only
      // when they are not routine batch lines.
      const child = spawn(process.execPath, ['bin/run-ts.js', 'workers/delivery-worker.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      workers.push(child);
      return new Promise<void>((resolve, reject) => {
        const show = (chunk: Buffer) => {
          for (const line of chunk.toString().trim().split('\n')) if (!/"msg":"batch (started|finished)"/.test(line)) log(`  worker ${child.pid}: ${line}`);
          if (/"worker ready"/.test(chunk.toString())) resolve();
        };
        child.stdout!.on('data', show);
        child.stderr!.on('data', show);
        child.once('exit', (code) => reject(new Error(`worker ${child.pid} exited with ${code}`)));
      });
    }),
  );
  const deliverLoad = load();
  const rss = startSampler(2000, () => workers.map((w) => residentBytes(w.pid!)));
  started = process.hrtime.bigint();
  let accepted = 0;
  let lastLog = 0;
  for (let stalled = 0; accepted < DELIVER;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = await app.campaigns.require(campaign.id);
    stalled = now.accepted === accepted ? stalled + 1 : 0;
    if (stalled > 300 || now.failed > 0) throw new Error(`delivery stalled or failing: ${JSON.stringify(now)}`);
    accepted = now.accepted;
    if (seconds(started) - lastLog >= 10) {
      lastLog = seconds(started);
      log(`  accepted ${fmt(accepted)}, ${fmt(accepted / lastLog)} msg/s`);
    }
  }
  const deliverSeconds = seconds(started);
  const rate = accepted / deliverSeconds;
  const rssSamples = await rss.stop();
  const pids = workers.map((w) => w.pid!);
  await stopWorkers();
  const afterStop = await app.campaigns.require(campaign.id);
  if (!isFinished(afterStop)) await cancelCampaign(deps, campaign.id);
  const cancelled = await app.campaigns.require(campaign.id);
  log(
    `delivery: ${fmt(accepted)} accepted in ${deliverSeconds.toFixed(1)} s; after the workers stopped ${fmt(afterStop.accepted)}; campaign ${cancelled.state}`,
  );

  // The summary: copy from here.
  // Flat means no trend once warm: the median of the last third of the samples after the
  // first 10 s against the median of the first third (a leak shows as steady growth).
  const perWorker = pids.map((pid, i) => {
    const mb = rssSamples.map((s) => s.value[i]! / 1024 / 1024);
    const warm = rssSamples.flatMap((s, j) => (s.at >= 10 ? [mb[j]!] : []));
    const third = Math.max(1, Math.floor(warm.length / 3));
    const growthMB = warm.length < 3 ? Number.NaN : median(warm.slice(-third)) - median(warm.slice(0, third));
    return { pid, startMB: mb[0]!, medianMB: median(mb), maxMB: Math.max(...mb), endMB: mb.at(-1)!, growthMB };
  });
  const results = {
    subscribers: N,
    importSeconds: Number(importSeconds.toFixed(2)),
    importRowsPerSecond: Math.round(N / importSeconds),
    redisBytesPerSubscriber: Math.round((afterImport - beforeImport) / N),
    enqueueSeconds: Number(enqueueSeconds.toFixed(2)),
    campaignPeakBytesPerRecipient: Math.round(peakPerRecipient),
    campaignSettledBytesPerRecipient: Math.round(settledPerRecipient),
    redisUsedMemoryPeakBytesPerRecipient: Math.round(redisPeakPerRecipient),
    delivered: accepted,
    deliverSeconds: Number(deliverSeconds.toFixed(2)),
    msgPerSecond: Math.round(rate),
    workerRssMB: perWorker.map((w) => ({
      pid: w.pid,
      start: Math.round(w.startMB),
      median: Math.round(w.medianMB),
      max: Math.round(w.maxMB),
      end: Math.round(w.endMB),
      growth: Math.round(w.growthMB),
    })),
  };
  console.log(`
## bench:scale summary
${new Date().toISOString()}; ${cpus().length} x ${cpus()[0]?.model.trim()}; Node ${process.version}; own redis-server ${redisVersion} (${PERSISTENCE.label}; maxmemory-policy noeviction)
Command: npm run bench:scale -- --subscribers ${N} --deliver ${DELIVER} --persistence ${flags.persistence}

| what | measured | target | load (1 min) |
|:--|--:|:--|--:|
| import ${fmt(N)} rows (importCsv, as \`subscribers import\`) | ${fmt(results.importRowsPerSecond)} rows/s (${importSeconds.toFixed(1)} s) | >= 50,000 rows/s: ${verdict(results.importRowsPerSecond >= 50_000)} | ${importLoad} |
| Redis used_memory per subscriber | ${results.redisBytesPerSubscriber} bytes (${MB(afterImport - beforeImport)} MB) | (record) | |
| enqueue a campaign to ${fmt(N)} (enqueueCampaign, as \`send\`) | ${enqueueSeconds.toFixed(1)} s, ${fmt(N / enqueueSeconds)} recipients/s | <= 10 s: ${verdict(enqueueSeconds <= 10)} | ${enqueueLoad} |
| campaign overhead in Redis, peak while enqueuing (used_memory sampled every 100 ms) | ${results.campaignPeakBytesPerRecipient} bytes per recipient | <= 150: ${verdict(peakPerRecipient <= 150)} | |
| campaign overhead in Redis, 1 s after enqueue / INFO used_memory_peak | ${results.campaignSettledBytesPerRecipient} / ${results.redisUsedMemoryPeakBytesPerRecipient} bytes per recipient | <= 150: ${verdict(Math.max(settledPerRecipient, redisPeakPerRecipient) <= 150)} | |
| deliver ${fmt(accepted)} of them, ${WORKERS} workers x ${CONNECTIONS} connections, smtp-sink | ${fmt(rate)} msg/s (${deliverSeconds.toFixed(1)} s) | (record) | ${deliverLoad} |
${perWorker.map((w) => `| worker ${w.pid} RSS start / median / max / end; warm first third -> last third | ${[w.startMB, w.medianMB, w.maxMB, w.endMB].map((x) => x.toFixed(0)).join(' / ')} MB; ${Number.isNaN(w.growthMB) ? 'too short to say' : `${w.growthMB >= 0 ? '+' : ''}${w.growthMB.toFixed(0)} MB`} | flat | |`).join('\n')}

Worker RSS every ~2 s (MB, one column per worker): ${rssSamples.map((s) => `${s.at.toFixed(0)}s ${s.value.map((b) => (b / 1024 / 1024).toFixed(0)).join('/')}`).join(', ')}
After the workers stopped: ${fmt(afterStop.accepted)} accepted, ${afterStop.failed} failed; the campaign is now ${cancelled.state} (the other ${fmt(N - afterStop.accepted)} recipients were enqueued, not sent).
${JSON.stringify(results)}`);
} finally {
  await stopWorkers();
  probe.disconnect();
  await app?.close();
  sink?.stop();
  await redisServer.stop();
  await rm(file, { force: true });
}

/** SIGTERM: each worker finishes its messages in flight and exits. */
async function stopWorkers(): Promise<void> {
  await Promise.all(
    workers.splice(0).map((w) =>
      w.exitCode !== null || w.signalCode !== null
        ? undefined
        : new Promise((resolve) => {
            w.once('exit', resolve);
            w.kill('SIGTERM');
          }),
    ),
  );
}
