/**
 * Issue + list -> a campaign in Redis and its batch jobs in the queue. Safe to run again
 * after a crash, also when the list changed meanwhile: the campaign is created once, the
 * list is read on from the position (join order) of the last member enqueued, a page of
 * batches is kept until it is counted (so a page added but not counted is added again,
 * exactly), and job ids are deterministic.
 */
import type { Queue } from 'bullmq';
import { NewsletterError } from '../errors.ts';
import type { Issue } from '../render/issue.ts';
import type { ListPage } from '../subscribers/subscriber-store.ts';
import type { BatchJobData, Campaign } from './campaign.ts';
import { isOutcomeUnknown } from './delivery-outcome.ts';
import type { CampaignStore, PendingPage } from './campaign-store.ts';
import { BATCH_SIZE, batchJobId, chunk, planCampaign } from './plan.ts';

/** Batches added to the queue per round trip. */
const PAGE_BATCHES = 10;

export interface EnqueueDeps {
  campaigns: CampaignStore;
  queue: Queue<BatchJobData>;
  /** The list's members in join order, a page at a time (SubscriberStore); declared here, since delivery imports campaign. */
  directory: { listPages(list: string, options: { after?: number; size?: number }): AsyncIterable<ListPage> };
  now: () => Date;
}

export interface EnqueueInput {
  issue: Pick<Issue, 'slug' | 'subject' | 'preheader' | 'date' | 'html' | 'text'>;
  list: string;
  publicUrl: string;
}

export async function enqueueCampaign(deps: EnqueueDeps, input: EnqueueInput): Promise<Campaign> {
  const { campaign, snapshot } = planCampaign({ ...input, now: deps.now() });
  const created = await deps.campaigns.create(campaign, snapshot);
  const current = created ? campaign : await deps.campaigns.require(campaign.id);
  if (current.state !== 'enqueuing') {
    throw new NewsletterError(
      'CAMPAIGN_STATE_INVALID',
      `campaign ${current.id} exists and is ${current.state}; see \`newsletter campaign status ${current.id}\` (resume, or resend --failed)`,
      { field: 'campaign' },
    );
  }
  const interrupted = await deps.campaigns.pendingPage(current.id);
  if (interrupted) await addPage(deps, current.id, interrupted);
  let next = (await deps.campaigns.require(current.id)).batches;
  const after = await deps.campaigns.enqueuedUpTo(current.id);
  for await (const { ids, upTo } of deps.directory.listPages(input.list, { after, size: BATCH_SIZE * PAGE_BATCHES })) {
    const page = { first: next, batches: chunk(ids), upTo };
    await deps.campaigns.setPendingPage(current.id, page);
    await addPage(deps, current.id, page);
    next += page.batches.length;
  }
  await deps.campaigns.transition(current.id, ['enqueuing'], 'running', deps.now(), 'startedAt');
  return deps.campaigns.require(current.id);
}

/** A page of first-round batches into the queue, then counted with the list position it reaches. */
async function addPage(deps: Pick<EnqueueDeps, 'queue' | 'campaigns'>, campaignId: string, page: PendingPage): Promise<void> {
  await addBatchJobs(
    deps,
    campaignId,
    0,
    page.batches.map((ids, i) => ({ ids, index: page.first + i })),
    page.upTo,
  );
}

/** Adds consecutive batch jobs in one round trip (ids are deterministic, so adding one twice is a no-op), then counts them once. */
async function addBatchJobs(
  deps: Pick<EnqueueDeps, 'queue' | 'campaigns'>,
  campaignId: string,
  round: number,
  batches: { ids: string[]; index: number }[],
  upTo?: number,
): Promise<void> {
  if (batches.length === 0) return;
  await deps.queue.addBulk(
    batches.map(({ ids, index }) => ({ name: 'batch', data: { campaignId, ids }, opts: { jobId: batchJobId(campaignId, round, index) } })),
  );
  await deps.campaigns.addBatches(
    campaignId,
    round,
    batches[0]!.index,
    batches.map((b) => b.ids.length),
    upTo,
  );
}

export interface ResendResult {
  round: number;
  /** Recipients queued again. */
  recipients: number;
  /** Failures with an unknown outcome (a worker died after sending) left out: they may have the issue already. */
  unknownLeftOut: number;
}

/**
 * Re-sends to the recipients whose delivery failed, as a new round of batch jobs. A failure
 * whose outcome is unknown may have been delivered, so it is re-sent only when the operator
 * asks (`includeUnknown`): at most once stays the default.
 */
export async function resendFailed(
  deps: Omit<EnqueueDeps, 'directory'>,
  campaignId: string,
  { includeUnknown = false }: { includeUnknown?: boolean } = {},
): Promise<ResendResult> {
  const campaign = await deps.campaigns.require(campaignId);
  if (campaign.state !== 'completed') {
    throw new NewsletterError('CAMPAIGN_STATE_INVALID', `campaign ${campaignId} is ${campaign.state}; resend needs it completed`, {
      field: 'campaign',
    });
  }
  const failures = await deps.campaigns.allFailures(campaignId);
  const failed = failures.filter((f) => includeUnknown || !isOutcomeUnknown({ outcome: 'failed', detail: f.reply })).map((f) => f.subscriberId);
  const unknownLeftOut = failures.length - failed.length;
  if (failed.length === 0) return { round: campaign.resendRounds, recipients: 0, unknownLeftOut };
  const round = await deps.campaigns.startResendRound(campaignId);
  const batches = chunk(failed);
  // Forget the failures first, so re-entering `running` does not complete the campaign at once.
  let reset = 0;
  for (const ids of batches) reset += await deps.campaigns.resetFailed(campaignId, ids);
  await deps.campaigns.transition(campaignId, ['completed'], 'running', deps.now());
  for (let i = 0; i < batches.length; i += PAGE_BATCHES) {
    await addBatchJobs(
      deps,
      campaignId,
      round,
      batches.slice(i, i + PAGE_BATCHES).map((ids, j) => ({ ids, index: i + j })),
    );
  }
  return { round, recipients: reset, unknownLeftOut };
}
