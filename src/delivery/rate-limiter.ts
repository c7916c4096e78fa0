/**
 * Messages per second toward the SMTP server, for every worker on every host together.
 * Adapter: { redis, prefix }. GCRA on Redis's own clock (hosts' clocks may differ): each
 * call reserves the next free slot and says how long to wait for it.
 */
import type { RedisClient } from '../redis/redis-client.ts';

const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nextFree = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', nextFree), 'PX', math.ceil((nextFree - now) / 1000) + 1000)
return math.floor(tat - now)
`;

type LimiterRedis = RedisClient & { rateReserve(key: string, intervalMicros: number): Promise<number> };

export class RateLimiter {
  private readonly redis: LimiterRedis;
  private readonly key: string;
  private readonly intervalMicros: number;

  constructor({ redis, prefix, perSecond }: { redis: RedisClient; prefix: string; perSecond: number }) {
    if (!(perSecond > 0)) throw new Error('RateLimiter needs a positive rate');
    if (!(redis as unknown as Partial<LimiterRedis>).rateReserve) redis.defineCommand('rateReserve', { lua: RESERVE, numberOfKeys: 1 });
    this.redis = redis as LimiterRedis;
    this.key = `${prefix}:ratelimit:smtp`;
    this.intervalMicros = Math.round(1_000_000 / perSecond);
  }

  /** Resolves when this process may send one message. */
  async acquire(): Promise<void> {
    const waitMicros = await this.redis.rateReserve(this.key, this.intervalMicros);
    if (waitMicros > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(waitMicros / 1000)));
  }

  async close(): Promise<void> {}
}
