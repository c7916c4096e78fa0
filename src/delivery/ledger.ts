/**
 * The per-recipient record of a campaign: read right before a send, written right after
 * the server's reply. Adapter: { redis, prefix }. See campaign-store.ts for the keys.
 */
import type { Redis } from 'ioredis';
import type { CampaignState } from '../campaign/campaign.ts';
import { withCampaignScripts, type CampaignRedis } from '../campaign/campaign-scripts.ts';
import { campaignKeys } from '../campaign/campaign-store.ts';

/** a accepted, f failed (detail: reply), s skipped (detail: reason), r deferred and will be retried. */
export type LedgerOutcome = 'a' | 'f' | 's' | 'r';

export interface Precheck {
  /** Accepted, failed or skipped already: never touch it again. */
  settled: boolean;
  state: CampaignState | undefined;
}

export class DeliveryLedger {
  private readonly redis: CampaignRedis;
  private readonly prefix: string;

  constructor({ redis, prefix }: { redis: Redis; prefix: string }) {
    this.redis = withCampaignScripts(redis);
    this.prefix = prefix;
  }

  async close(): Promise<void> {}

  async precheck(campaignId: string, subscriberId: string): Promise<Precheck> {
    const { ledger, meta } = campaignKeys(this.prefix, campaignId);
    const [entry, state] = await this.redis.campaignPrecheck(meta, ledger, subscriberId);
    return { settled: entry !== null && entry !== 'r', state: (state as CampaignState | null) ?? undefined };
  }

  /** Writes the outcome unless the recipient is settled already; true when written. Keeps the counters and completion in step. */
  async record(campaignId: string, subscriberId: string, outcome: LedgerOutcome, detail: string, now: Date): Promise<boolean> {
    const { ledger, meta } = campaignKeys(this.prefix, campaignId);
    const clean = detail.replace(/[\r\n]+/g, ' ').slice(0, 500);
    return (await this.redis.campaignRecord(meta, ledger, subscriberId, outcome, clean, now.toISOString())) === 1;
  }
}
