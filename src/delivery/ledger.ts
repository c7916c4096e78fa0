/**
 * The per-recipient record of a campaign: read right before a send, written right after
 * the server's reply. Adapter: { redis, prefix }. See campaign-store.ts for the keys.
 */
import type { Redis } from 'ioredis';
import type { CampaignState } from '../campaign/campaign.ts';
import { OUTCOME_UNKNOWN, withCampaignScripts, type CampaignRedis } from '../campaign/campaign-scripts.ts';
import { campaignKeys } from '../campaign/campaign-store.ts';

/** a accepted, f failed (detail: reply), s skipped (detail: reason), r deferred and will be retried. */
export type LedgerOutcome = 'a' | 'f' | 's' | 'r';

export interface Precheck {
  /** Accepted, failed or skipped already: never touch it again. */
  settled: boolean;
  state: CampaignState | undefined;
  /**
   * An earlier attempt sent the end of the message and no reply was recorded: the worker
   * died (or is still waiting). The server may have accepted it, so it must not be sent again.
   */
  unconfirmed: boolean;
}

/** The failure recorded for an unconfirmed delivery (its reply starts with OUTCOME_UNKNOWN). */
export const UNCONFIRMED_REPLY = `${OUTCOME_UNKNOWN}: the message was sent, but the worker stopped before it recorded the server's reply; it may have been delivered, so it was not sent again`;

export interface LedgerOptions {
  redis: Redis;
  prefix: string;
  /** How long recordReply keeps trying while Redis is away (default 60 s). */
  replyRetryMs?: number;
}

export class DeliveryLedger {
  private readonly redis: CampaignRedis;
  private readonly prefix: string;
  private readonly replyRetryMs: number;

  constructor({ redis, prefix, replyRetryMs = 60_000 }: LedgerOptions) {
    this.redis = withCampaignScripts(redis);
    this.prefix = prefix;
    this.replyRetryMs = replyRetryMs;
  }

  async close(): Promise<void> {}

  async precheck(campaignId: string, subscriberId: string): Promise<Precheck> {
    const { ledger, meta, sending } = campaignKeys(this.prefix, campaignId);
    const [entry, state, mark] = await this.redis.campaignPrecheck(meta, ledger, sending, subscriberId);
    const settled = entry !== null && entry !== 'r';
    return { settled, state: (state as CampaignState | null) ?? undefined, unconfirmed: !settled && mark !== null };
  }

  /**
   * Marks the recipient "sending": called right before the end of the message goes to the
   * server, which can accept it from then on. Cleared by any record().
   */
  async markSending(campaignId: string, subscriberId: string, now: Date): Promise<void> {
    await this.redis.hset(campaignKeys(this.prefix, campaignId).sending, subscriberId, now.getTime());
  }

  /** Writes the outcome unless the recipient is settled already; true when written. Keeps the counters and completion in step. */
  async record(campaignId: string, subscriberId: string, outcome: LedgerOutcome, detail: string, now: Date): Promise<boolean> {
    const { ledger, meta, sending } = campaignKeys(this.prefix, campaignId);
    const clean = detail.replace(/[\r\n]+/g, ' ').slice(0, 500);
    return (await this.redis.campaignRecord(meta, ledger, sending, subscriberId, outcome, clean, now.toISOString())) === 1;
  }

  /**
   * record() for a reply the SMTP server gave: only this process knows it, so while Redis is
   * away (restarting) keep trying rather than leave the recipient "sending" (unconfirmed).
   */
  async recordReply(campaignId: string, subscriberId: string, outcome: LedgerOutcome, detail: string, now: Date): Promise<boolean> {
    const deadline = Date.now() + this.replyRetryMs;
    for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
      try {
        return await this.record(campaignId, subscriberId, outcome, detail, now);
      } catch (error) {
        if (Date.now() + pause > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}
