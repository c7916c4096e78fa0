/**
 * bench:scale's delivery step: the first `deliver` recipients of an enqueued campaign through
 * worker processes to smtp-sink, sampling their RSS every 2 s; then the workers get SIGTERM
 * (messages in flight finish) and the campaign is cancelled (the rest is enqueued, never sent).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import type { App } from '../src/app.ts';
import { cancelCampaign } from '../src/campaign/campaign-controls.ts';
import { isFinished, type Campaign } from '../src/campaign/campaign.ts';
import { median, residentBytes, startSampler, type Sample } from './probes.ts';

export interface WorkerRss {
  pid: number;
  startMB: number;
  medianMB: number;
  maxMB: number;
  endMB: number;
  /** Warm first third -> last third (NaN when too short to say). */
  growthMB: number;
}

export interface DeliverResult {
  accepted: number;
  seconds: number;
  load: string;
  perWorker: WorkerRss[];
  rssSamples: Sample<number[]>[];
  afterStop: Campaign;
  cancelled: Campaign;
}

export async function deliverFirst({
  app,
  env,
  campaignId,
  deps,
  deliver,
  workerCount,
  log,
}: {
  app: App;
  /** The workers' environment (the same Redis, prefix and SMTP as the app). */
  env: Record<string, string>;
  campaignId: string;
  deps: Parameters<typeof cancelCampaign>[0];
  deliver: number;
  workerCount: number;
  log: (line: string) => void;
}): Promise<DeliverResult> {
  const workers: ChildProcess[] = [];
  const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
  try {
    // Started and ready first, so the clock measures delivery only.
    await Promise.all(
      Array.from({ length: workerCount }, () => {
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
    const load = loadavg()[0]!.toFixed(1);
    const rss = startSampler(2000, () => workers.map((w) => residentBytes(w.pid!)));
    const started = process.hrtime.bigint();
    let accepted = 0;
    let lastLog = 0;
    for (let stalled = 0; accepted < deliver;) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const now = await app.campaigns.require(campaignId);
      stalled = now.accepted === accepted ? stalled + 1 : 0;
      if (stalled > 300 || now.failed > 0) throw new Error(`delivery stalled or failing: ${JSON.stringify(now)}`);
      accepted = now.accepted;
      if (seconds(started) - lastLog >= 10) {
        lastLog = seconds(started);
        log(`  accepted ${accepted.toLocaleString('en')}, ${Math.round(accepted / lastLog).toLocaleString('en')} msg/s`);
      }
    }
    const deliverSeconds = seconds(started);
    const rssSamples = await rss.stop();
    const pids = workers.map((w) => w.pid!);
    await stopWorkers(workers);
    const afterStop = await app.campaigns.require(campaignId);
    if (!isFinished(afterStop)) await cancelCampaign(deps, campaignId);
    const cancelled = await app.campaigns.require(campaignId);
    log(`delivery: ${accepted} accepted in ${deliverSeconds.toFixed(1)} s; after the workers stopped ${afterStop.accepted}; campaign ${cancelled.state}`);
    // Flat means no trend once warm: the median of the last third of the samples after the
    // first 10 s against the median of the first third (a leak shows as steady growth).
    const perWorker = pids.map((pid, i) => {
      const mb = rssSamples.map((s) => s.value[i]! / 1024 / 1024);
      const warm = rssSamples.flatMap((s, j) => (s.at >= 10 ? [mb[j]!] : []));
      const third = Math.max(1, Math.floor(warm.length / 3));
      const growthMB = warm.length < 3 ? Number.NaN : median(warm.slice(-third)) - median(warm.slice(0, third));
      return { pid, startMB: mb[0]!, medianMB: median(mb), maxMB: Math.max(...mb), endMB: mb.at(-1)!, growthMB };
    });
    return { accepted, seconds: deliverSeconds, load, perWorker, rssSamples, afterStop, cancelled };
  } finally {
    await stopWorkers(workers);
  }
}

/** SIGTERM: each worker finishes its messages in flight and exits. */
async function stopWorkers(workers: ChildProcess[]): Promise<void> {
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
