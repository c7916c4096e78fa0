/** What the Redis checks need, read from the newsletter's Redis: settings, memory, and how many subscribers it holds. Adapter. */
import type { RedisClient } from '../../redis/redis-client.ts';
import { primaryFor } from '../../redis/redis-connection.ts';
import { infoField, readRedisSafety } from '../../redis-safety.ts';
import { subscriberKeys } from '../../subscribers/subscriber-keys.ts';
import type { RedisFacts } from '../redis-checks.ts';

const number = (text: string | undefined) => (text === undefined || !/^\d+$/.test(text) ? undefined : Number(text));

export async function readRedisFacts(redis: RedisClient, prefix: string): Promise<RedisFacts> {
  const keys = subscriberKeys(prefix);
  // The node that holds the newsletter's subscribers (every subscriber key shares one slot): on a Cluster, the one to judge and to scan.
  const node = primaryFor(redis, keys.all) ?? redis;
  const { maxmemoryPolicy, aof, rdb, memoryInfo } = await readRedisSafety(node);
  const listPrefix = keys.list('');
  let largestList: RedisFacts['largestList'];
  let cursor = '0';
  do {
    const [next, found] = await node.scan(cursor, 'MATCH', `${listPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
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
