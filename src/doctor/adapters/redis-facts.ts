/** What the Redis checks need, read from the newsletter's Redis: settings, memory, and how many subscribers it holds. Adapter. */
import type { RedisClient } from '../../redis/redis-client.ts';
import { primaryFor } from '../../redis/redis-connection.ts';
import { infoField, readRedisSafety } from '../../redis-safety.ts';
import { subscriberKeys } from '../../subscribers/subscriber-keys.ts';
import { SubscriberStore } from '../../subscribers/subscriber-store.ts';
import type { RedisFacts } from '../redis-checks.ts';

const number = (text: string | undefined) => (text === undefined || !/^\d+$/.test(text) ? undefined : Number(text));

export async function readRedisFacts(redis: RedisClient, prefix: string): Promise<RedisFacts> {
  const keys = subscriberKeys(prefix);
  // The node that holds the newsletter's subscribers (every subscriber key shares one slot): on a Cluster, the one to judge.
  const node = primaryFor(redis, keys.counts) ?? redis;
  const { maxmemoryPolicy, aof, rdb, memoryInfo } = await readRedisSafety(node);
  const store = new SubscriberStore({ redis, prefix });
  let largestList: RedisFacts['largestList'];
  for (const name of await store.listNames()) {
    const size = await store.countList(name);
    if (!largestList || size > largestList.size) largestList = { name, size };
  }
  return {
    maxmemoryPolicy,
    aof,
    rdb,
    usedMemory: number(infoField(memoryInfo, 'used_memory')),
    maxmemory: number(infoField(memoryInfo, 'maxmemory')),
    systemMemory: number(infoField(memoryInfo, 'total_system_memory')),
    subscribers: await store.countList(),
    largestList,
  };
}
