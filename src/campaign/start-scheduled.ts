/**
 * Starting scheduled campaigns when they are due. Every worker and web server polls (see
 * src/processes/scheduler.ts); the claim in Redis lets exactly one of them start each
 * campaign, and enqueueing is idempotent, so one that dies half-way is taken over once its
 * lease runs out.
 *
 * What may have changed since scheduling is checked now: the list (no members left: the
 * campaign is cancelled with the reason) and its recipients (planned now, not at scheduling).
 * The issue is the snapshot rendered at scheduling.
 */
import type { Queue } from 'bullmq';
import type { BatchJobData, Campaign, IssueSnapshot } from './campaign.ts';
import type { CampaignStore } from './campaign-store.ts';
import { enqueueCampaign, type EnqueueDeps } from './enqueue-campaign.ts';
import type { ScheduleStore } from './schedule-store.ts';

/** Past this, a start is logged as late (nothing polled at its time: every process was down). */
export const LATE_AFTER_MS = 3_000;
/** How long a claimer has to enqueue before another poller takes the campaign over. */
export const CLAIM_LEASE_MS = 5 * 60_000;

export interface StartScheduledDeps {
  campaigns: CampaignStore;
  schedule: ScheduleStore;
  queue: () => Queue<BatchJobData>;
  directory: EnqueueDeps['directory'] & { countList(list: string): Promise<number> };
  publicUrl: string;
  now: () => Date;
  /** How late each start was, in seconds (the metric newsletter_schedule_late_seconds). */
  startedLate?: (seconds: number) => void;
  log?: {
    info(fields: object, message: string): void;
    warn(fields: object, message: string): void;
  };
  leaseMs?: number;
}

export type StartOutcome = 'started' | 'cancelled' | 'not-due' | 'not-ours' | 'gone';

/** Starts every due campaign this poller can claim; how many it started. */
export async function startDueCampaigns(deps: StartScheduledDeps, limit = 20): Promise<number> {
  let started = 0;
  for (const id of await deps.schedule.due(deps.now(), limit)) {
    try {
      if ((await startIfDue(deps, id)) === 'started') started++;
    } catch (error) {
      // One campaign that cannot start holds up no other; it is tried again once its lease runs out.
      deps.log?.warn({ campaignId: id, err: error }, 'scheduled campaign could not start; trying again later');
    }
  }
  return started;
}

/** Claims one campaign's start and, when the claim is ours, enqueues it. */
export async function startIfDue(deps: StartScheduledDeps, id: string): Promise<StartOutcome> {
  const claim = await deps.schedule.claim(id, deps.now(), deps.leaseMs ?? CLAIM_LEASE_MS);
  if (claim === 'early' || claim === 'draft' || claim === 'scheduled') return 'not-due';
  // Enqueuing under someone else's lease: theirs to finish.
  if (claim === 'enqueuing') return 'not-ours';
  if (claim !== 'claimed' && claim !== 'reclaimed') {
    // Started, ended or deleted: its entry is stale (a state past the start never becomes scheduled again).
    await deps.schedule.forget(id);
    return 'gone';
  }
  const campaign = await deps.campaigns.require(id);
  if ((await deps.directory.countList(campaign.list)) === 0)
    return endUnsent(deps, campaign, `list ${campaign.list} has no members left at the scheduled time`);
  const snapshot = await deps.campaigns.getSnapshot(id);
  // Stored with the campaign in one script; gone only if someone deleted keys by hand. Retrying could never help.
  if (!snapshot) return endUnsent(deps, campaign, 'its issue snapshot is missing from Redis');
  const started = await enqueueCampaign(
    { campaigns: deps.campaigns, queue: deps.queue(), directory: deps.directory, now: deps.now },
    { issue: snapshot, list: campaign.list, publicUrl: deps.publicUrl },
  );
  await deps.schedule.forget(id);
  report(deps, started, claim === 'reclaimed');
  return 'started';
}

async function endUnsent(deps: StartScheduledDeps, campaign: Campaign, reason: string): Promise<StartOutcome> {
  await deps.campaigns.setEndReason(campaign.id, reason);
  await deps.campaigns.transition(campaign.id, ['enqueuing'], 'cancelled', deps.now(), 'finishedAt');
  await deps.schedule.forget(campaign.id);
  deps.log?.warn({ campaignId: campaign.id, list: campaign.list, scheduledAt: campaign.scheduledAt }, `scheduled campaign not started: ${reason}`);
  return 'cancelled';
}

function report(deps: StartScheduledDeps, campaign: Campaign, takenOver: boolean): void {
  const lateMs = Math.max(0, deps.now().getTime() - Date.parse(campaign.scheduledAt ?? campaign.createdAt));
  deps.startedLate?.(lateMs / 1000);
  const fields = { campaignId: campaign.id, scheduledAt: campaign.scheduledAt, lateSeconds: Math.round(lateMs / 100) / 10, total: campaign.total, takenOver };
  if (lateMs > LATE_AFTER_MS) deps.log?.warn(fields, 'scheduled campaign started late: no worker or server was running at its time');
  else deps.log?.info(fields, 'scheduled campaign started');
}

/**
 * A campaign that has not started (draft or scheduled) starts now, through the same claim as
 * a scheduled start; with `snapshot`, with that rendering instead of the stored one. When a
 * poller claims it first, that poller starts it: either way it starts once.
 */
export async function startNow(deps: StartScheduledDeps, id: string, snapshot?: IssueSnapshot): Promise<Campaign> {
  await deps.schedule.schedule(id, deps.now(), snapshot);
  await startIfDue(deps, id);
  return deps.campaigns.require(id);
}
