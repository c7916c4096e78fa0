/**
 * The per-recipient record of a campaign: read right before a send, written right after
 * the server's reply. Adapter: { redis, prefix }. See campaign-store.ts for the keys.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient, ReplicaAck } from '../redis/redis-client.ts';
import type { CampaignState } from '../campaign/campaign.ts';
import { withCampaignScripts, type CampaignRedis } from '../campaign/campaign-scripts.ts';
import { campaignKeys } from '../campaign/campaign-store.ts';
import { decodeLedgerEntry, encodeLedgerEntry, type LedgerOutcome } from '../campaign/delivery-outcome.ts';

export interface Precheck {
  /** Accepted, failed or skipped already: never touch it again. */
  settled: boolean;
  state: CampaignState | undefined;
  /**
   * An earlier attempt sent the end of the message and no reply was recorded: the worker
   * died (or is still waiting). The server may have accepted it, so it must not be sent again.
   */
  outcomeUnknown: boolean;
}

/** What markSending did, and how this attempt takes its own mark back. */
export interface SendingMark {
  /** 'ok': marked, the end may go; 'settled' or 'marked': another attempt settled or is sending this recipient. */
  result: 'ok' | 'settled' | 'marked';
  /**
   * For an attempt that knows its end never went (it failed before handing the end to the
   * connection): removes this attempt's mark, never another's, so the recipient is tried again
   * rather than read as "outcome unknown". Keeps trying while Redis is away (up to replyRetryMs),
   * and waits for a replica as the mark did.
   */
  takeBack(): Promise<void>;
}

/**
 * What makes each mark this attempt's own: random per process, counted per attempt (a
 * crypto call per message would be one more system call on the send path for the same
 * uniqueness).
 */
const ATTEMPT_PREFIX = randomBytes(6).toString('base64url');
let attempts = 0;

export interface LedgerOptions {
  redis: RedisClient;
  prefix: string;
  /**
   * The "sending" mark and outcomes wait for a replica before they count (unset: they do not):
   * a mark lost at failover is a message sent twice, an outcome lost one whose fate is unknown.
   */
  replicaWait?: ReplicaAck;
  /** How long recordReply keeps trying while Redis is away (default 60 s). */
  replyRetryMs?: number;
}

export class DeliveryLedger {
  private readonly redis: CampaignRedis;
  private readonly prefix: string;
  private readonly replyRetryMs: number;
  private readonly replicaWait: ReplicaAck | undefined;

  constructor({ redis, prefix, replyRetryMs = 60_000, replicaWait }: LedgerOptions) {
    this.redis = withCampaignScripts(redis);
    this.replicaWait = replicaWait;
    this.prefix = prefix;
    this.replyRetryMs = replyRetryMs;
  }

  async close(): Promise<void> {}

  async precheck(campaignId: string, subscriberId: string): Promise<Precheck> {
    const { ledger, meta, sending } = campaignKeys(this.prefix, campaignId);
    const [entry, state, mark] = await this.redis.campaignPrecheck(meta, ledger, sending, subscriberId);
    const settled = entry !== null && decodeLedgerEntry(entry)?.outcome !== 'deferred';
    return { settled, state: (state as CampaignState | null) ?? undefined, outcomeUnknown: !settled && mark !== null };
  }

  /** Which of these recipients are settled already (one read for a batch; deliverOne's precheck still decides). */
  async settledAmong(campaignId: string, subscriberIds: readonly string[]): Promise<Set<string>> {
    if (subscriberIds.length === 0) return new Set();
    const entries = await this.redis.hmget(campaignKeys(this.prefix, campaignId).ledger, ...subscriberIds);
    return new Set(subscriberIds.filter((_, i) => entries[i] != null && decodeLedgerEntry(entries[i]!)?.outcome !== 'deferred'));
  }

  /**
   * Marks the recipient "sending": called right before the end of the message goes to the
   * server, which can accept it from then on. Cleared by any record(). Refused ('settled',
   * 'marked') when the recipient was settled or marked by another attempt since the precheck:
   * then this attempt must not send the end. The mark is this attempt's own (its time and a
   * random token), so that a script the client sent again after a lost reply knows it, and a
   * take-back removes nobody else's.
   */
  async markSending(campaignId: string, subscriberId: string, now: Date): Promise<SendingMark> {
    const { ledger, sending } = campaignKeys(this.prefix, campaignId);
    const mark = `${now.getTime()}:${ATTEMPT_PREFIX}${(attempts++).toString(36)}`;
    // Confirmed by a replica like the mark: a take-back lost at failover would bring the mark back.
    const takeBack = () =>
      this.retrying(async () => {
        await this.redis.campaignUnmark(sending, subscriberId, mark);
        await this.replicaWait?.after(sending);
      });
    try {
      const result = await this.redis.campaignMarkSending(ledger, sending, subscriberId, mark);
      // Only then may the end of the message go: the deliveries marked in this tick share one WAIT.
      if (result === 'ok') await this.replicaWait?.after(sending);
      return { result, takeBack };
    } catch (error) {
      // The end will not be sent, yet the mark may be set (and replicated) with its reply lost
      // as the primary failed: left, it would read "outcome unknown" and the recipient would
      // never get the message. Take it back once Redis answers again.
      await takeBack().catch(() => {});
      throw error;
    }
  }

  /** Writes the outcome unless the recipient is settled already; true when written. Keeps the counters and completion in step. */
  async record(campaignId: string, subscriberId: string, outcome: LedgerOutcome, detail: string, now: Date): Promise<boolean> {
    const { ledger, meta, sending } = campaignKeys(this.prefix, campaignId);
    // A deferral's reply is only logged: a deferred entry is waiting, and a million of them must stay small.
    const entry = encodeLedgerEntry({ outcome, detail: outcome === 'deferred' ? '' : detail, at: now });
    const written = (await this.redis.campaignRecord(meta, ledger, sending, subscriberId, entry, outcome, now.toISOString())) === 1;
    // Also when it changed nothing: an earlier try of this very outcome may have been written and not confirmed.
    await this.replicaWait?.after(ledger);
    return written;
  }

  /**
   * record() for a reply the SMTP server gave: only this process knows it, so while Redis is
   * away (restarting) keep trying rather than leave the recipient "sending" (outcome unknown).
   */
  async recordReply(campaignId: string, subscriberId: string, outcome: LedgerOutcome, detail: string, now: Date): Promise<boolean> {
    return this.retrying(() => this.record(campaignId, subscriberId, outcome, detail, now));
  }

  /** Keeps trying `write` while Redis is away (restarting, failing over), for up to replyRetryMs. */
  private async retrying<T>(write: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.replyRetryMs;
    for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
      try {
        return await write();
      } catch (error) {
        if (Date.now() + pause > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}
