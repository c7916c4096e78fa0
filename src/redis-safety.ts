/**
 * Checks, at start, that Redis will not silently lose subscribers or queued jobs:
 * refuses an evicting `maxmemory-policy` (Redis would delete keys under memory pressure),
 * warns when nothing is kept on disk (a restart would lose everything).
 */
import type { RedisClient } from './redis/redis-client.ts';
import { NewsletterError } from './errors.ts';

export interface RedisSafetyReport {
  maxmemoryPolicy: string | undefined;
  aof: boolean | undefined;
  rdb: boolean | undefined;
  warnings: string[];
}

export function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** CONFIG GET is disabled on some managed Redis services; then we know less and say so. */
async function configGet(redis: RedisClient, name: string): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', name)) as string[];
    return reply[1];
  } catch {
    return undefined;
  }
}

/** What decides whether Redis keeps data: its eviction policy and what it writes to disk; undefined where Redis will not say. */
export async function readRedisSafety(redis: RedisClient): Promise<Omit<RedisSafetyReport, 'warnings'> & { memoryInfo: string }> {
  const memory = await redis.info('memory');
  const persistence = await redis.info('persistence');
  const maxmemoryPolicy = infoField(memory, 'maxmemory_policy') ?? (await configGet(redis, 'maxmemory-policy'));
  const aofField = infoField(persistence, 'aof_enabled');
  const aof = aofField === undefined ? undefined : aofField === '1';
  const save = await configGet(redis, 'save');
  const rdb = save === undefined ? undefined : save.trim() !== '';
  return { maxmemoryPolicy, aof, rdb, memoryInfo: memory };
}

export async function checkRedisSafety(redis: RedisClient): Promise<RedisSafetyReport> {
  const { maxmemoryPolicy, aof, rdb } = await readRedisSafety(redis);
  if (maxmemoryPolicy !== undefined && maxmemoryPolicy !== 'noeviction') {
    throw new NewsletterError(
      'REDIS_UNSAFE',
      `Redis maxmemory-policy is "${maxmemoryPolicy}": it would evict subscribers and queued jobs under memory pressure; set it to noeviction (redis-cli config set maxmemory-policy noeviction, and in redis.conf)`,
      { field: 'maxmemory-policy' },
    );
  }
  const warnings: string[] = [];
  if (maxmemoryPolicy === undefined) warnings.push('cannot read Redis maxmemory-policy; make sure it is noeviction');
  if (aof === false && rdb === false) {
    warnings.push('Redis keeps nothing on disk (no AOF, no RDB snapshots): a restart loses every subscriber and queued job; enable appendonly yes');
  }
  return { maxmemoryPolicy, aof, rdb, warnings };
}
