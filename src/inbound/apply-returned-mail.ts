/**
 * Applies what one matched returned message does (returned-effect.ts) to the stores. Every step
 * is idempotent on its own: the campaign counts a recipient once per kind, a status already set
 * is not set again (no second history entry), a campaign's soft bounce is kept once. So a
 * message applied twice, or a job run again after a crash halfway, changes nothing more.
 */
import type { CampaignStore } from '../campaign/campaign-store.ts';
import type { UnsubscribeMetrics } from '../metrics/metric-tally.ts';
import { activeSince, judgeSoftBounces } from '../subscribers/soft-bounce-rule.ts';
import type { SubscriberStore } from '../subscribers/subscriber-store.ts';
import type { Match } from './match-returned-mail.ts';
import type { RecentCampaigns } from './recent-campaigns.ts';
import type { ReturnedEffect } from './returned-effect.ts';

export interface ApplyDeps {
  campaigns: Pick<CampaignStore, 'recordReturned'>;
  subscribers: Pick<SubscriberStore, 'suppress' | 'unsubscribe' | 'softBounces'>;
  recent: Pick<RecentCampaigns, 'acceptedFor'>;
  soft: { limit: number; window: number };
  now: () => Date;
  metrics?: UnsubscribeMetrics;
}

/** What changed, one line each for logs and tests; empty when nothing did. */
export async function applyReturnedMail(deps: ApplyDeps, match: Match, effect: ReturnedEffect, receivedAt: Date): Promise<string[]> {
  const changes: string[] = [];
  const { subscriberId, subscriber, campaignId } = match;
  if (effect.campaign && campaignId && (await deps.campaigns.recordReturned(campaignId, subscriberId, effect.campaign))) {
    changes.push(`campaign ${campaignId}: ${effect.campaign.kind} +1`);
  }
  if (!subscriber) return changes;
  if (effect.suppress && (await deps.subscribers.suppress(subscriberId, effect.suppress.status, effect.suppress.reason)).changed) {
    deps.metrics?.unsubscribed(effect.suppress.status === 'bounced' ? 'bounce' : 'complaint');
    changes.push(`subscriber ${subscriberId}: ${effect.suppress.status}`);
  }
  // The one-click POST's store call and metric, with the time since the mail reached us.
  if (effect.unsubscribe && (await deps.subscribers.unsubscribe(subscriberId, effect.unsubscribe.reason)).changed) {
    deps.metrics?.unsubscribed('mail', Math.max(0, (deps.now().getTime() - receivedAt.getTime()) / 1000));
    changes.push(`subscriber ${subscriberId}: unsubscribed`);
  }
  if (effect.softBounce && campaignId) {
    const { added, campaigns: softBounces } = await deps.subscribers.softBounces.record(subscriberId, campaignId, deps.now().toISOString());
    if (added) changes.push(`subscriber ${subscriberId}: soft bounce from campaign ${campaignId}`);
    const { limit, window } = deps.soft;
    const recent = await deps.recent.acceptedFor(subscriberId, window);
    const judged = judgeSoftBounces({ recent, softBounces, activeSince: activeSince(subscriber.history), limit, window });
    await deps.subscribers.softBounces.forget(subscriberId, judged.stale);
    if (judged.reached) {
      const last = [effect.campaign?.status, effect.campaign?.detail].filter(Boolean).join(' ');
      const reason = `soft bounces from ${judged.counted.length} of the last ${window} campaigns sent: ${judged.counted.join(', ')} (the last: ${last})`;
      if ((await deps.subscribers.suppress(subscriberId, 'bounced', reason)).changed) {
        deps.metrics?.unsubscribed('bounce');
        changes.push(`subscriber ${subscriberId}: bounced`);
      }
    }
  }
  return changes;
}
