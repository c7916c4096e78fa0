/** What the Redis checks need, read from the newsletter's Redis: settings, memory, and how many subscribers it holds. Adapter. */
import type { Redis } from 'ioredis';
import { infoField, readRedisSafety } from '../../redis-safety.ts';
import { subscriberKeys } from '../../subscribers/subscriber-keys.ts';
import type { RedisFacts } from '../redis-checks.ts';

const number = (text: string | undefined) => (text === undefined || !/^\d+$/.test(text) ? undefined : Number(text));

export async function readRedisFacts(redis: Redis, prefix: string): Promise<RedisFacts> {
  const { maxmemoryPolicy, aof, rdb, memoryInfo } = await readRedisSafety(redis);
  const keys = subscriberKeys(prefix);
  const listPrefix = keys.list('');
  let largestList: RedisFacts['largestList'];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${listPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const size = await redis.zcard(key);
      if (!largestList || size > largestList.size) largestList = { name: key.slice(listPrefix.length), size };
    }
  } while (cursor !== '0');
  return {
    maxmemoryPolicy,
    aof,
    rdb,
    usedMemory: number(infoField(memoryInfo, 'used_memory')),
    maxmemory: number(infoField(memoryInfo, 'maxmemory')),
    systemMemory: number(infoField(memoryInfo, 'total_system_memory')),
    subscribers: await redis.zcard(keys.all),
    largestList,
  };
}
