/**
 * Pause, resume and cancel. State lives in the campaign hash and is read by the worker
 * right before every message; these functions change it and wake parked batch jobs.
 */
import type { Queue } from 'bullmq';
import type { BatchJobData, Campaign } from './campaign.ts';
import type { CampaignStore } from './campaign-store.ts';
import { batchJobId } from './plan.ts';

export interface ControlDeps {
  campaigns: CampaignStore;
  queue: Queue<BatchJobData>;
  now: () => Date;
}

/** Takes effect before each worker's next message of this campaign. */
export async function pauseCampaign(deps: ControlDeps, id: string): Promise<Campaign> {
  await deps.campaigns.transition(id, ['running'], 'paused', deps.now());
  return deps.campaigns.require(id);
}

/** Continues from the ledger: settled recipients are skipped by the worker, the rest are sent. */
export async function resumeCampaign(deps: ControlDeps, id: string): Promise<Campaign> {
  await deps.campaigns.transition(id, ['paused', 'running'], 'running', deps.now());
  await wakeBatches(deps, id);
  return deps.campaigns.require(id);
}

/** For good: the remaining recipients are skipped with reason "campaign cancelled". */
export async function cancelCampaign(deps: ControlDeps, id: string): Promise<Campaign> {
  await deps.campaigns.transition(id, ['draft', 'scheduled', 'enqueuing', 'running', 'paused'], 'cancelled', deps.now(), 'finishedAt');
  await wakeBatches(deps, id);
  return deps.campaigns.require(id);
}

/**
 * Every batch of the campaign is addressable by its deterministic id: promote the ones
 * parked by a pause, retry the ones that failed outright (e.g. Redis was away).
 */
async function wakeBatches(deps: ControlDeps, id: string): Promise<{ promoted: number; retried: number }> {
  const campaign = await deps.campaigns.require(id);
  const jobIds: string[] = [];
  for (let i = 0; i < campaign.batches; i++) jobIds.push(batchJobId(id, 0, i));
  for (let round = 1; round <= campaign.resendRounds; round++) {
    const count = await deps.campaigns.resendBatches(id, round);
    for (let i = 0; i < count; i++) jobIds.push(batchJobId(id, round, i));
  }
  let promoted = 0;
  let retried = 0;
  for (let i = 0; i < jobIds.length; i += 50) {
    await Promise.all(
      jobIds.slice(i, i + 50).map(async (jobId) => {
        const job = await deps.queue.getJob(jobId);
        if (!job) return;
        const state = await job.getState();
        try {
          if (state === 'delayed') {
            await job.promote();
            promoted++;
          } else if (state === 'failed') {
            await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
            retried++;
          }
        } catch {
          // The job moved on meanwhile (a worker took it): nothing to wake.
        }
      }),
    );
  }
  return { promoted, retried };
}
