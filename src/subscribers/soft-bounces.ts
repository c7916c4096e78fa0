/**
 * A subscriber's soft bounces: which campaigns one came back from, and when. A campaign counts
 * once however many reports it brings. The rule that turns them into `bounced` is
 * judgeSoftBounces (soft-bounce-rule.ts); this adapter only keeps them. Takes { redis, prefix }.
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { subscriberKeys, type SubscriberKeys } from './subscriber-keys.ts';

/**
 * Only the last few campaigns sent to a subscriber matter, and forget() drops the older ones;
 * the expiry is for a subscriber no campaign reaches any more.
 */
const KEEP_SECONDS = 366 * 24 * 3600;

export class SoftBounceStore {
  private readonly redis: RedisClient;
  private readonly keys: SubscriberKeys;

  constructor({ redis, prefix }: { redis: RedisClient; prefix: string }) {
    this.redis = redis;
    this.keys = subscriberKeys(prefix);
  }

  /** Records a soft bounce from a campaign (once per campaign); every campaign with one, and when (ISO). */
  async record(subscriberId: string, campaignId: string, at: string): Promise<{ added: boolean; campaigns: Map<string, string> }> {
    const key = this.keys.softBounces(subscriberId);
    const replies = (await this.redis.multi().hsetnx(key, campaignId, at).hgetall(key).expire(key, KEEP_SECONDS).exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const [[, added], [, all]] = replies as [[null, number], [null, Record<string, string>]];
    return { added: added === 1, campaigns: new Map(Object.entries(all)) };
  }

  async read(subscriberId: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.softBounces(subscriberId))));
  }

  /** Drops campaigns that no longer count (older than the subscriber's window). */
  async forget(subscriberId: string, campaignIds: readonly string[]): Promise<void> {
    if (campaignIds.length > 0) await this.redis.hdel(this.keys.softBounces(subscriberId), ...campaignIds);
  }

  /** Everything about one subscriber (they were removed). */
  async clear(subscriberId: string): Promise<void> {
    await this.redis.del(this.keys.softBounces(subscriberId));
  }
}
