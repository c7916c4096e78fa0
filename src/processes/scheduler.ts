/**
 * The scheduler loop, run by every `newsletter worker` and `newsletter server`: every
 * SCHEDULER_POLL_MS (1 s) it starts the scheduled campaigns that are due
 * (campaign/start-scheduled.ts; the claim in Redis makes each start happen once, however
 * many processes poll). Built from the App once per process and stopped with it: closing the
 * App waits for a poll in progress before Redis goes.
 */
import type { App } from '../app.ts';
import { ScheduleStore } from '../campaign/schedule-store.ts';
import { startDueCampaigns, type StartScheduledDeps } from '../campaign/start-scheduled.ts';
import type { Logger } from '../logger.ts';
import { metricsRecorder } from '../metrics/metric-tally.ts';

export interface SchedulerOptions {
  log?: Logger;
  intervalMs?: number;
}

export function scheduleDeps(app: App, log?: Logger): StartScheduledDeps {
  const { prefix } = app.config.redis;
  return {
    campaigns: app.campaigns,
    schedule: new ScheduleStore({ redis: app.redis, prefix }),
    queue: () => app.deliveryQueue(),
    directory: app.subscribers,
    publicUrl: app.config.http.publicUrl,
    now: () => new Date(),
    startedLate: (seconds) => metricsRecorder(app.fleetMetrics().tally).scheduleStarted(seconds),
    log,
  };
}

/** Polls until the App closes. */
export function startScheduler(app: App, { log, intervalMs = app.config.scheduler.pollMs }: SchedulerOptions = {}): void {
  const deps = scheduleDeps(app, log);
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  // One line when polling starts to fail and one when it works again, not one a second through a Redis outage.
  let failing = false;
  const poll = () => {
    running = startDueCampaigns(deps)
      .then(() => {
        if (failing) log?.info('scheduler: polling works again');
        failing = false;
      })
      // Redis away or a campaign that failed to enqueue: the next poll (or, past its lease, another process) tries again.
      .catch((error: unknown) => {
        if (!failing) log?.warn({ err: error }, 'scheduler: starting due campaigns failed; trying again every poll');
        failing = true;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(poll, intervalMs);
      });
  };
  poll();
  app.onClose(async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  });
}
