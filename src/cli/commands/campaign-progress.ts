/**
 * `--wait`: a live progress bar (accepted / failed / skipped / deferred, rate, ETA) on
 * stderr until the campaign is completed or cancelled. Plain lines when not a terminal.
 */
import { SingleBar } from 'cli-progress';
import type { Campaign } from '../../campaign/campaign.ts';
import { isFinished, settledCount } from '../../campaign/campaign.ts';
import type { CampaignStore } from '../../campaign/campaign-store.ts';
import { isRedisError } from '../../redis/redis-errors.ts';
import type { CliOutput } from '../cli-io.ts';

/**
 * The campaign goes on while Redis restarts or fails over, so watching it does too: Redis's
 * errors are waited out for `outageMs` before the watch gives up.
 */
async function readThroughOutage<T>(read: () => Promise<T>, outageMs: number, intervalMs: number): Promise<T> {
  const deadline = Date.now() + outageMs;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (!isRedisError(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

export async function waitWithProgress(
  campaigns: CampaignStore,
  id: string,
  { intervalMs = 250, show = true, outageMs = 60_000, stream = process.stderr as CliOutput } = {},
): Promise<Campaign> {
  const bar = new SingleBar({
    format:
      ' {bar} {percentage}% | {value}/{total} | accepted {accepted} failed {failed} skipped {skipped} deferred {deferred} | {rate} msg/s | ETA {eta_formatted}',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 2_000,
    stream: stream as NodeJS.WritableStream,
  });
  let campaign = await campaigns.require(id);
  const started = Date.now();
  const startCount = settledCount(campaign);
  const payload = (c: Campaign) => {
    const seconds = (Date.now() - started) / 1000;
    // Early figures swing wildly; once finished, even a short campaign gets its real rate.
    const rate = seconds > 0.5 || (isFinished(c) && seconds > 0) ? Math.round((settledCount(c) - startCount) / seconds) : 0;
    return { accepted: c.accepted, failed: c.failed, skipped: c.skipped, deferred: c.deferred, rate };
  };
  if (show) bar.start(campaign.total, settledCount(campaign), payload(campaign));
  try {
    while (!isFinished(campaign)) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      campaign = await readThroughOutage(() => campaigns.require(id), outageMs, intervalMs);
      if (show) {
        bar.setTotal(campaign.total);
        bar.update(settledCount(campaign), payload(campaign));
      }
    }
  } finally {
    if (show) bar.stop();
  }
  return campaign;
}
