/**
 * Campaigns in Redis. Adapter: takes { redis, prefix }, owns no connection.
 *
 * Keys (one hash tag per campaign, so its scripts run on Redis Cluster):
 *   P:c:{c:<id>}:meta     hash    the Campaign fields and counters
 *   P:c:{c:<id>}:issue    string  the rendered issue snapshot (JSON), stored once
 *   P:c:{c:<id>}:ledger   hash    subscriber id -> its LedgerEntry, encoded (delivery-outcome.ts)
 *   P:c:{c:<id>}:sending  hash    subscriber id -> ms time: the end of the message is going out, no reply recorded yet
 *   P:c:{c:<id>}:pending  string  the page of batches being enqueued (JSON), until they are counted
 *   P:c:{c:<id>}:returned hash    what came back by mail: subscriber id (and kind) -> entry (returned-mail.ts)
 *   P:c:{c:<id>}:waits    hash    batch job id -> {group: recipients} waiting for a paused receiving domain (JSON)
 *   P:campaigns           zset    campaign ids by creation time
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { NewsletterError } from '../errors.ts';
import { CAMPAIGN_STATES, type Campaign, type CampaignState, type IssueSnapshot } from './campaign.ts';
import { withCampaignScripts, type CampaignRedis } from './campaign-scripts.ts';
import { decodeLedgerEntry, type LedgerEntry } from './delivery-outcome.ts';
import {
  decodeReturnedEntry,
  emptyReturnedCounts,
  encodeReturnedEntry,
  RETURNED_KINDS,
  returnedCounterField,
  returnedField,
  type ReturnedEntry,
} from './returned-mail.ts';

export function campaignKeys(prefix: string, id: string) {
  const base = `${prefix}:c:{c:${id}}`;
  return {
    meta: `${base}:meta`,
    issue: `${base}:issue`,
    ledger: `${base}:ledger`,
    sending: `${base}:sending`,
    pending: `${base}:pending`,
    returned: `${base}:returned`,
    waits: `${base}:waits`,
  };
}

const NUMBERS = ['total', 'accepted', 'failed', 'skipped', 'deferred', 'batches', 'resendRounds'] as const;

function fromHash(hash: Record<string, string>): Campaign | undefined {
  if (!hash.id || !(CAMPAIGN_STATES as readonly string[]).includes(hash.state ?? '')) return undefined;
  const campaign = {
    id: hash.id,
    slug: hash.slug ?? '',
    subject: hash.subject ?? '',
    list: hash.list ?? '',
    state: hash.state as CampaignState,
    createdAt: hash.createdAt ?? '',
    startedAt: hash.startedAt || undefined,
    finishedAt: hash.finishedAt || undefined,
    scheduledAt: hash.scheduledAt || undefined,
    endReason: hash.endReason || undefined,
  } as Campaign;
  for (const field of NUMBERS) campaign[field] = Number(hash[field] ?? 0);
  campaign.returned = emptyReturnedCounts();
  for (const kind of RETURNED_KINDS) campaign.returned[kind] = Number(hash[returnedCounterField(kind)] ?? 0);
  return campaign;
}

/** Batches of the first round being enqueued: their index, members, and the list position they reach. */
export interface PendingPage {
  first: number;
  batches: string[][];
  upTo: number;
}

export interface FailedDelivery {
  subscriberId: string;
  reply: string;
  /** ISO 8601, when the failure was recorded; absent for failures recorded before times were kept. */
  at?: string;
}

/** One recipient's entry of what came back by mail. */
export type ReturnedDelivery = ReturnedEntry & { subscriberId: string };

export class CampaignStore {
  private readonly redis: CampaignRedis;
  private readonly prefix: string;

  constructor({ redis, prefix }: { redis: RedisClient; prefix: string }) {
    this.redis = withCampaignScripts(redis);
    this.prefix = prefix;
  }

  /** The connection belongs to the composition root. */
  async close(): Promise<void> {}

  keys(id: string) {
    return campaignKeys(this.prefix, id);
  }

  private get indexKey(): string {
    return `${this.prefix}:campaigns`;
  }

  /** Creates the campaign and stores the issue once; false (nothing written) when it exists already. */
  async create(campaign: Campaign, snapshot: IssueSnapshot): Promise<boolean> {
    const { meta, issue } = this.keys(campaign.id);
    // The returned-mail counters start at 0 by being absent.
    const fields = Object.entries(campaign).flatMap(([k, v]) => (v === undefined || k === 'returned' ? [] : [k, String(v)]));
    if ((await this.redis.campaignCreate(meta, issue, JSON.stringify(snapshot), ...fields)) === 0) return false;
    await this.redis.zadd(this.indexKey, Date.parse(campaign.createdAt) || 0, campaign.id);
    return true;
  }

  async get(id: string): Promise<Campaign | undefined> {
    return fromHash(await this.redis.hgetall(this.keys(id).meta));
  }

  async require(id: string): Promise<Campaign> {
    const campaign = await this.get(id);
    if (!campaign) throw new NewsletterError('CAMPAIGN_NOT_FOUND', `no campaign with id ${id}`, { field: 'campaign' });
    return campaign;
  }

  async getSnapshot(id: string): Promise<IssueSnapshot | undefined> {
    const text = await this.redis.get(this.keys(id).issue);
    return text ? (JSON.parse(text) as IssueSnapshot) : undefined;
  }

  /** Ids of the newest campaigns, newest first. */
  recentIds(limit: number): Promise<string[]> {
    return this.redis.zrevrange(this.indexKey, 0, limit - 1);
  }

  /** How many campaigns there are: it changes when one is created. */
  count(): Promise<number> {
    return this.redis.zcard(this.indexKey);
  }

  /** Newest first. */
  async list(limit = 50): Promise<Campaign[]> {
    const ids = await this.redis.zrevrange(this.indexKey, 0, limit - 1);
    const all = await Promise.all(ids.map((id) => this.get(id)));
    return all.filter((c): c is Campaign => c !== undefined);
  }

  /**
   * Counts batches first.. of a round exactly once (re-running an interrupted enqueue is safe);
   * `counts` are their sizes, `upTo` the list position (score) their last member has. Forgets
   * the pending page.
   */
  async addBatches(id: string, round: number, first: number, counts: readonly number[], upTo?: number): Promise<number> {
    if (counts.length === 0) return 0;
    const field = round === 0 ? 'batches' : `resendBatches:${round}`;
    const { meta, pending } = this.keys(id);
    return this.redis.campaignAddBatches(meta, pending, field, first, round === 0 ? 1 : 0, upTo === undefined ? '' : String(upTo), ...counts);
  }

  /** Where enqueueing the first round stopped: the list position (score) of the last member enqueued; 0 before any. */
  async enqueuedUpTo(id: string): Promise<number> {
    return Number((await this.redis.hget(this.keys(id).meta, 'enqueuedUpTo')) ?? 0);
  }

  /**
   * The page of batches about to be added to the queue, kept until addBatches counts them, so
   * an enqueue interrupted between the two adds exactly those batches again.
   */
  async setPendingPage(id: string, page: PendingPage): Promise<void> {
    await this.redis.set(this.keys(id).pending, JSON.stringify(page));
  }

  async pendingPage(id: string): Promise<PendingPage | undefined> {
    const text = await this.redis.get(this.keys(id).pending);
    return text ? (JSON.parse(text) as PendingPage) : undefined;
  }

  async resendBatches(id: string, round: number): Promise<number> {
    return Number((await this.redis.hget(this.keys(id).meta, `resendBatches:${round}`)) ?? 0);
  }

  async startResendRound(id: string): Promise<number> {
    return this.redis.hincrby(this.keys(id).meta, 'resendRounds', 1);
  }

  /**
   * Moves the campaign to `to` when it is in one of `from`; throws CAMPAIGN_STATE_INVALID
   * otherwise. Entering `running` completes it at once when everyone is already settled.
   */
  async transition(id: string, from: readonly CampaignState[], to: CampaignState, now: Date, timeField = ''): Promise<CampaignState> {
    const before = await this.redis.campaignTransition(this.keys(id).meta, to, now.toISOString(), timeField, ...from);
    if (!before) throw new NewsletterError('CAMPAIGN_NOT_FOUND', `no campaign with id ${id}`, { field: 'campaign' });
    if (!from.includes(before as CampaignState)) {
      throw new NewsletterError('CAMPAIGN_STATE_INVALID', `campaign ${id} is ${before}; this needs it to be ${from.join(' or ')}`, {
        field: 'campaign',
      });
    }
    return before as CampaignState;
  }

  /** Why the campaign ended without sending (shown in its status). */
  async setEndReason(id: string, reason: string): Promise<void> {
    await this.redis.hset(this.keys(id).meta, 'endReason', reason);
  }

  /** Failed deliveries with the server's reply, a page at a time. */
  async failures(id: string, cursor = '0', count = 500): Promise<{ failures: FailedDelivery[]; cursor: string }> {
    const [next, flat] = await this.redis.hscan(this.keys(id).ledger, cursor, 'COUNT', count);
    const failures: FailedDelivery[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const entry = decodeLedgerEntry(flat[i + 1]!);
      if (entry?.outcome === 'failed') failures.push({ subscriberId: flat[i]!, reply: entry.detail, at: entry.at?.toISOString() });
    }
    return { failures, cursor: next };
  }

  /** Every failed delivery (HSCAN may repeat a field; deduplicated here). */
  async allFailures(id: string): Promise<FailedDelivery[]> {
    const seen = new Map<string, FailedDelivery>();
    let cursor = '0';
    do {
      const page = await this.failures(id, cursor);
      for (const f of page.failures) seen.set(f.subscriberId, f);
      cursor = page.cursor;
    } while (cursor !== '0');
    return [...seen.values()];
  }

  /** Forgets these failed entries (and their count) so a resend round can deliver to them. */
  async resetFailed(id: string, subscriberIds: readonly string[]): Promise<number> {
    if (subscriberIds.length === 0) return 0;
    const { meta, ledger } = this.keys(id);
    return this.redis.campaignResetFailed(meta, ledger, ...subscriberIds);
  }

  /**
   * One recipient's ledger entry in each of these campaigns (undefined where it has none). The
   * commands go out together without a pipeline: the campaigns sit in different Cluster slots.
   */
  async ledgerEntries(ids: readonly string[], subscriberId: string): Promise<(LedgerEntry | undefined)[]> {
    const values = await Promise.all(ids.map((id) => this.redis.hget(this.keys(id).ledger, subscriberId)));
    return values.map((value) => (value === null ? undefined : decodeLedgerEntry(value)));
  }

  /**
   * What came back by mail about one recipient, counted on the campaign once per kind (a worse
   * bounce replaces a milder one). False when it changed nothing: counted already, or no such campaign.
   */
  async recordReturned(id: string, subscriberId: string, entry: ReturnedEntry): Promise<boolean> {
    const { meta, returned } = this.keys(id);
    return (await this.redis.campaignRecordReturned(meta, returned, returnedField(subscriberId, entry.kind), encodeReturnedEntry(entry))) === 1;
  }

  /** Every entry of what came back by mail (HSCAN may repeat a field; deduplicated here). */
  async allReturned(id: string): Promise<ReturnedDelivery[]> {
    const seen = new Map<string, ReturnedDelivery>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys(id).returned, cursor, 'COUNT', 500);
      for (let i = 0; i < flat.length; i += 2) {
        const entry = decodeReturnedEntry(flat[i]!, flat[i + 1]!);
        if (entry) seen.set(flat[i]!, entry);
      }
      cursor = next;
    } while (cursor !== '0');
    return [...seen.values()];
  }

  /**
   * What one batch's recipients wait for, as its last run left them: recipients by receiving
   * group whose pause held them (none: the batch waits for nothing). Kept only to be shown.
   */
  async setGroupWaits(id: string, jobId: string, waits: ReadonlyMap<string, number>): Promise<void> {
    const key = this.keys(id).waits;
    if (waits.size === 0) await this.redis.hdel(key, jobId);
    else await this.redis.hset(key, jobId, JSON.stringify(Object.fromEntries(waits)));
  }

  /** Recipients of the campaign waiting for each paused receiving group, summed over its batches. */
  async groupWaits(id: string): Promise<Record<string, number>> {
    const total: Record<string, number> = {};
    for (const value of Object.values(await this.redis.hgetall(this.keys(id).waits))) {
      try {
        for (const [group, n] of Object.entries(JSON.parse(value) as Record<string, number>)) total[group] = (total[group] ?? 0) + Number(n);
      } catch {
        // A field another version wrote: only shown, never relied on.
      }
    }
    return total;
  }

  /** The ledger entry of one recipient; undefined before any outcome. */
  async ledgerEntry(id: string, subscriberId: string): Promise<LedgerEntry | undefined> {
    const value = await this.redis.hget(this.keys(id).ledger, subscriberId);
    return value === null ? undefined : decodeLedgerEntry(value);
  }
}
