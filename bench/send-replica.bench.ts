/**
 * npm run bench:send-replica: what waiting for a replica costs a send. The send bench's
 * delivery (20,000 recipients of the seed issue, 2 worker processes x 5 connections, Postfix
 * smtp-sink) on a private primary with one replica, runs alternating REDIS_WAIT_REPLICAS=1 and
 * =0 (fresh workers for each), so load from elsewhere hits both alike. Prints msg/s, the
 * time per message each way and the WAITs the primary ran per message.
 * BENCH_RECIPIENTS, BENCH_RUNS and BENCH_IN_FLIGHT override the count, the runs per mode and
 * the messages in flight per worker (default 10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { createApp } from '../src/app.ts';
import { enqueueCampaign } from '../src/campaign/enqueue-campaign.ts';
import { loadConfig } from '../src/config.ts';
import { startPrivateRedisServer } from '../src/redis/private-redis-server.ts';
import { renderPostFile } from '../src/render/render-post-file.ts';
import { ensurePostfixTools, startSmtpSink } from './send-postfix.ts';

const N = Number(process.env.BENCH_RECIPIENTS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WORKERS = 2;
const CONNECTIONS = 5;
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? CONNECTIONS * 2); // per worker process
const POST = 'emails/posts/sofa-weekly-2019-11-01.md';
const log = (line: string) => process.stderr.write(`${line}\n`);

ensurePostfixTools(log);
const sink = await startSmtpSink();
const primary = await startPrivateRedisServer({ appendfsync: 'everysec', args: ['--repl-diskless-sync-delay', '0'] });
const replica = await startPrivateRedisServer({ appendfsync: 'everysec', args: ['--replicaof', '127.0.0.1', String(primary.port)] });
const admin = new Redis(primary.url);
while (!/connected_slaves:1/.test(await admin.info('replication'))) await new Promise((resolve) => setTimeout(resolve, 50));

const prefix = 'bench:send-replica';
const env = {
  ...process.env,
  REDIS_URL: primary.url,
  REDIS_PREFIX: prefix,
  SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
  NEWSLETTER_DEV_MODE: '1',
  SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
  WORKER_CONCURRENCY: String(IN_FLIGHT),
  SEND_RATE_PER_SECOND: '0',
} as Record<string, string>;
const config = loadConfig({ env });
const app = await createApp(config, { warn: log });
const issue = await renderPostFile(POST, { identity: config.identity });
log(`adding ${N} subscribers ...`);
for (let i = 0; i < N; i += 1000)
  await app.subscribers.addMany(Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ email: `reader${i + j}@example.org`, lists: ['bench'] })));
const deps = { campaigns: app.campaigns, queue: app.deliveryQueue(), directory: app.subscribers, now: () => new Date() };

async function startWorkers(wait: '0' | '1'): Promise<ChildProcess[]> {
  const workers: ChildProcess[] = [];
  await Promise.all(
    Array.from({ length: WORKERS }, () => {
      const child = spawn(process.execPath, ['bin/run-ts.js', 'workers/delivery-worker.ts'], {
        env: { ...env, REDIS_WAIT_REPLICAS: wait },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      workers.push(child);
      return new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => /"worker ready"/.test(c.toString()) && resolve()));
    }),
  );
  return workers;
}

const waits = async () => Number(/^cmdstat_wait:calls=(\d+)/m.exec(await admin.info('commandstats'))?.[1] ?? 0);
const seconds: Record<'0' | '1', number[]> = { '0': [], '1': [] };
const waitsPerMessage: number[] = [];
const loads: number[] = [];
let run = 0;
for (let round = 1; round <= RUNS; round++) {
  for (const wait of round % 2 ? (['1', '0'] as const) : (['0', '1'] as const)) {
    run++;
    const workers = await startWorkers(wait);
    const waitsBefore = await waits();
    log(`run ${run}: REDIS_WAIT_REPLICAS=${wait} ...`);
    const started = process.hrtime.bigint();
    const campaign = await enqueueCampaign(deps, { issue: { ...issue, slug: `replica-${run}` }, list: 'bench', publicUrl: config.http.publicUrl });
    let done = await app.campaigns.require(campaign.id);
    while (done.state !== 'completed') {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done = await app.campaigns.require(campaign.id);
    }
    seconds[wait].push(Number(process.hrtime.bigint() - started) / 1e9);
    if (done.accepted !== N) throw new Error(`expected ${N} accepted, got ${JSON.stringify(done)}`);
    if (wait === '1') waitsPerMessage.push(((await waits()) - waitsBefore) / N);
    loads.push(loadavg()[0]!);
    await Promise.all(workers.map((w) => new Promise((resolve) => (w.on('exit', resolve), w.kill('SIGTERM')))));
    await app.redis.unlink(...Object.values(app.campaigns.keys(campaign.id)));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Wall-clock time of the whole send divided by its messages: what one more message adds. */
const usPerMessage = (wait: '0' | '1') => (median(seconds[wait]) / N) * 1e6;
console.log(`
send with a replica: ${N} recipients, ${WORKERS} worker processes x ${CONNECTIONS} connections, ${IN_FLIGHT} in flight each, smtp-sink; primary + 1 replica (private, AOF everysec); medians of ${RUNS} runs each, alternating
  REDIS_WAIT_REPLICAS=1  ${Math.round(N / median(seconds['1']))} msg/s  (runs ${seconds['1'].map((x) => x.toFixed(2)).join(', ')} s)  ${median(waitsPerMessage).toFixed(3)} WAITs per message
  REDIS_WAIT_REPLICAS=0  ${Math.round(N / median(seconds['0']))} msg/s  (runs ${seconds['0'].map((x) => x.toFixed(2)).join(', ')} s)
  time per message (send wall clock / messages): ${usPerMessage('1').toFixed(0)} us with WAIT, ${usPerMessage('0').toFixed(0)} us without (${usPerMessage('1') >= usPerMessage('0') ? '+' : ''}${(usPerMessage('1') - usPerMessage('0')).toFixed(0)} us)
  load (1 min) during the runs: ${loads.map((x) => x.toFixed(1)).join(', ')}
`);

await app.close();
admin.disconnect();
sink.stop();
await replica.stop();
await primary.stop();
