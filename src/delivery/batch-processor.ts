/**
 * The BullMQ processor for one batch job: deliver to each id through the process-wide
 * in-flight limit, then decide what BullMQ does with the job. Only here does a delivery
 * outcome become a BullMQ signal: deferrals -> an error (BullMQ retries with backoff),
 * pause -> DelayedError, a campaign that cannot be read -> UnrecoverableError.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Identity } from '../config.ts';
import type { BatchJobData } from '../campaign/campaign.ts';
import type { CampaignStore } from '../campaign/campaign-store.ts';
import { NewsletterError } from '../errors.ts';
import { isRedisError } from '../redis/redis-errors.ts';
import type { Logger } from '../logger.ts';
import type { SigningSecrets } from '../subscribers/tokens.ts';
import { deliverOne, type DeliverOneDeps, type DeliveryResult } from './deliver-one.ts';
import { buildMessageTemplate, MessageBuffers, type MessageTemplate } from './message-template.ts';
import { recipientLinks } from './recipient-links.ts';
import type { DomainPace } from './domain-pace.ts';
import type { ReceivingGroups } from './receiving-groups.ts';
import type { RelayBreaker } from './relay-breaker.ts';
import type { Semaphore } from './semaphore.ts';

export interface BatchProcessorDeps extends Omit<DeliverOneDeps, 'links' | 'relay' | 'pace'> {
  /**
   * The receiving groups' pace for the fleet (domain-pace.ts): a recipient starts only once their
   * group admits them; a paused group's recipients are handed back, their batch waits for the
   * pause without spending attempts. Needs `groups`.
   */
  pace?: Pick<DomainPace, 'admit' | 'throttled' | 'pausedForMs'>;
  groups?: Pick<ReceivingGroups, 'groupOfAddress'>;
  /** The fleet's relay breaker: while it pauses, no message starts and batches wait without spending attempts. */
  relay?: Pick<RelayBreaker, 'failure' | 'success' | 'pausedForMs'>;
  campaigns: CampaignStore;
  identity: Identity;
  secrets: SigningSecrets;
  publicUrl: string;
  /** BOUNCE_DOMAIN: every message's envelope sender is its recipient's signed return path on it. */
  bounceDomain?: string;
  inFlight: Semaphore;
  /** How long a paused batch waits before it looks again (resume also wakes it). */
  pausePollMs: number;
  /** How long a batch waits when Redis or the relay failed (default 5 s; a relay pause waits longer); the wait spends none of its attempts. */
  retryWaitMs?: number;
  /** True once the worker is shutting down: start no new message, hand the rest back. */
  stopping?: () => boolean;
  /**
   * True once this worker failed to renew the batch's lock (it stalled: a GC pause, a frozen
   * VM, SIGSTOP), so the batch may be another worker's now: start no new message for it.
   */
  lockLost?: (jobId: string) => boolean;
  /** Batch start and end, deferrals and failures, each line with campaignId and jobId. */
  log?: Logger;
}

export type BatchSummary = Record<DeliveryResult, number>;

/** Message templates by campaign, built once per campaign per process from the snapshot stored once in Redis. */
function templateCache(deps: Pick<BatchProcessorDeps, 'campaigns' | 'identity'>): (campaignId: string) => Promise<MessageTemplate> {
  const templates = new Map<string, Promise<MessageTemplate>>();
  return (campaignId) => {
    let template = templates.get(campaignId);
    if (!template) {
      template = (async () => {
        const [campaign, snapshot] = await Promise.all([deps.campaigns.get(campaignId), deps.campaigns.getSnapshot(campaignId)]);
        if (!campaign || !snapshot) throw new UnrecoverableError(`campaign ${campaignId} or its issue is missing`);
        return buildMessageTemplate({ issue: snapshot, identity: deps.identity, campaignId, date: new Date(campaign.createdAt), viewUrl: snapshot.viewUrl });
      })();
      templates.set(campaignId, template);
      template.catch(() => templates.delete(campaignId));
      if (templates.size > 20) templates.delete(templates.keys().next().value!);
    }
    return template;
  };
}

/** How a batch's run ended, for the decision of what BullMQ does with its job. */
interface BatchRun {
  summary: BatchSummary;
  /** Messages not started: the campaign paused, the worker stopping, the lock lost, Redis failing or the relay paused. */
  handedBack: number;
  paused: boolean;
  /** The first Redis error met. */
  storeFailure: Error | undefined;
  lockLost: boolean;
  relayPaused: boolean;
  /** Recipients handed back (or throttled) because their group is paused or busy, by group. */
  groupWaits: Map<string, number>;
  /** When the first of those groups takes messages again. */
  groupRetryMs: number;
  ms: number;
}

export function createBatchProcessor(deps: BatchProcessorDeps) {
  const templateFor = templateCache(deps);
  const links = recipientLinks(deps.secrets.current, deps.publicUrl, deps.identity, deps.bounceDomain);
  // One buffer per message in flight is enough; a few spare cover the hand-off overlap.
  const deliverDeps: DeliverOneDeps = { ...deps, links, buffers: new MessageBuffers(64) };
  const relayPaused = () => (deps.relay?.pausedForMs() ?? 0) > 0;

  /**
   * Redis failing (restarting, out of memory, failing over) is not the batch's fault: it goes
   * back to the queue for a while without spending one of its attempts, and no delivery is
   * counted as deferred. If Redis cannot take even that, the batch's lock runs out and it comes
   * back as stalled.
   */
  return async function processBatch(job: Job<BatchJobData>, token?: string): Promise<BatchSummary> {
    try {
      const log = deps.log?.child({ campaignId: job.data.campaignId, jobId: job.id, attempt: job.attemptsMade + 1 });
      return await finishBatch(job, token, await runBatch(job, log), log);
    } catch (error) {
      if (!isRedisError(error)) throw error;
      deps.log?.warn({ campaignId: job.data.campaignId, jobId: job.id, err: error }, 'Redis failed: batch handed back to try again, no delivery attempt spent');
      await job.moveToDelayed(Date.now() + (deps.retryWaitMs ?? 5_000), token).catch(() => {
        throw error;
      });
      throw new DelayedError('Redis failed');
    }
  };

  /** Delivers to each id through the process-wide in-flight limit, starting no new message once there is a reason to stop. */
  async function runBatch(job: Job<BatchJobData>, log: Logger | undefined): Promise<BatchRun> {
    const { campaignId, ids } = job.data;
    const started = deps.now().getTime();
    log?.debug({ recipients: ids.length }, 'batch started');
    const template = await templateFor(campaignId);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const recipients = new Map((await deps.directory.getMany(ids)).map((s) => [s.id, s]));
    const summary: BatchSummary = {
      accepted: 0,
      failed: 0,
      skipped: 0,
      deferred: 0,
      'relay-failed': 0,
      throttled: 0,
      paused: 0,
      'domain-paused': 0,
      'settled-before': 0,
    };
    const run = {
      summary,
      handedBack: 0,
      paused: false,
      storeFailure: undefined as Error | undefined,
      groupWaits: new Map<string, number>(),
      groupRetryMs: Infinity,
    };
    const lockLost = () => job.id !== undefined && (deps.lockLost?.(job.id) ?? false);
    const mustStop = () => run.paused || deps.stopping?.() || lockLost() || run.storeFailure !== undefined || relayPaused();
    const waitsFor = (group: string, retryMs: number) => {
      run.groupWaits.set(group, (run.groupWaits.get(group) ?? 0) + 1);
      run.groupRetryMs = Math.min(run.groupRetryMs, retryMs);
    };
    // Recipients settled in an earlier run take no turn of their group's pace (the ledger's own check still comes first in deliverOne).
    const settled = deps.pace ? await deps.ledger.settledAmong(campaignId, ids) : new Set<string>();
    /**
     * Waits for the recipient's receiving group to take one more message (outside the in-flight
     * limit: a batch full of one slow group must not hold the slots other groups' recipients need).
     * Undefined when the recipient does not start now: handed back, or waiting for their group.
     */
    const takeTurn = async (subscriberId: string, recipient: { email: string } | undefined): Promise<{ group?: string; release: () => void } | undefined> => {
      if (!deps.pace || !deps.groups || !recipient || settled.has(subscriberId)) return { release: () => {} };
      const group = await deps.groups.groupOfAddress(recipient.email);
      if (mustStop()) {
        run.handedBack++;
        return undefined;
      }
      try {
        const admission = await deps.pace.admit(group);
        if (admission.go) return { group, release: admission.release };
        waitsFor(group, admission.retryMs);
        return undefined;
      } catch (error) {
        // As a Redis failure in a delivery: this recipient waits, the others finish, then the batch goes back.
        if (!isRedisError(error)) throw error;
        run.storeFailure ??= error as Error;
        run.handedBack++;
        return undefined;
      }
    };
    await Promise.all(
      ids.map(async (subscriberId) => {
        const recipient = recipients.get(subscriberId);
        const turn = await takeTurn(subscriberId, recipient);
        if (!turn) return;
        const { group, release } = turn;
        try {
          await deps.inFlight.run(async (releaseSlot) => {
            // Pause takes effect before the next message: nothing new starts once it is seen.
            if (mustStop()) {
              run.handedBack++;
              return;
            }
            try {
              // The slot passes on once the server has answered: the next message's check then
              // shares a round trip with this one's ledger write.
              const onReply = () => {
                releaseSlot();
                release();
              };
              const result = await deliverOne(deliverDeps, { campaignId, template, subscriberId, recipient, lastAttempt, onReply, log, group });
              if (result === 'paused') run.paused = true;
              if ((result === 'domain-paused' || result === 'throttled') && group !== undefined) waitsFor(group, deps.pace?.pausedForMs(group) ?? 0);
              summary[result]++;
            } catch (error) {
              if (!isRedisError(error)) throw error;
              run.storeFailure ??= error as Error; // isRedisError holds for Error instances only
              run.handedBack++;
            }
          });
        } finally {
          release();
        }
      }),
    );
    return { ...run, lockLost: lockLost(), relayPaused: relayPaused(), ms: deps.now().getTime() - started };
  }

  /** Only here does a batch's run become a BullMQ signal. */
  async function finishBatch(job: Job<BatchJobData>, token: string | undefined, run: BatchRun, log: Logger | undefined): Promise<BatchSummary> {
    const { summary, handedBack } = run;
    const outcome = { ...summary, handedBack, ms: run.ms };
    if (run.lockLost) {
      // Not ours to move any more: whoever holds the lock now finishes the batch from the ledger.
      log?.warn(outcome, 'batch lock lost: this worker stalled, and another has the batch now');
      throw new Error(`batch ${job.id} lock lost; another worker finishes it`);
    }
    if (run.storeFailure !== undefined) throw run.storeFailure;
    await deps.campaigns.setGroupWaits(job.data.campaignId, String(job.id), run.groupWaits).catch(() => {}); // shown only
    if (summary['relay-failed'] > 0 || run.relayPaused) {
      // The relay's failure is nobody's attempt: wait out the fleet's pause (or a short while
      // before the breaker has decided) and come back with the attempts untouched.
      const waitMs = Math.max(deps.relay?.pausedForMs() ?? 0, deps.retryWaitMs ?? 5_000);
      log?.info({ ...outcome, waitMs }, 'batch waits for the relay');
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError('the relay is failing');
    }
    if (run.paused || handedBack > 0) {
      log?.info(outcome, run.paused ? 'batch paused with the campaign' : 'batch handed back: the worker is stopping');
      // The ledger makes the re-run skip everyone already settled.
      await job.moveToDelayed(Date.now() + (run.paused ? deps.pausePollMs : 0), token);
      throw new DelayedError(run.paused ? `campaign ${job.data.campaignId} is paused` : 'worker stopping');
    }
    if (summary.deferred > 0) {
      log?.warn(outcome, 'batch has deferred deliveries: tried again with backoff');
      throw new NewsletterError('SMTP_DEFERRED', `${summary.deferred} of ${job.data.ids.length} deliveries deferred; the batch will be tried again`);
    }
    if (run.groupWaits.size > 0) {
      // A receiving domain's pause (or its cap's queue) is nobody's attempt: come back when the
      // first of the groups this batch waits for may send again; the ledger makes the re-run skip
      // everyone settled.
      const waitMs = Math.max(50, run.groupRetryMs);
      log?.info({ ...outcome, waitMs, groups: Object.fromEntries(run.groupWaits) }, 'batch waits for receiving domains that asked us to slow down');
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError('receiving domains paused');
    }
    log?.info(outcome, 'batch finished');
    return summary;
  }
}
