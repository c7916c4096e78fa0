/**
 * Deletes every key under one prefix (subscribers, campaigns, ledgers, the rate limiter and
 * the BullMQ queue, whose keys are `<prefix>:{<prefix>}:q:…`), so `newsletter demo` starts
 * from nothing each time. Adapter. SCAN walks the keyspace in steps and UNLINK frees
 * memory in the background: Redis keeps answering other clients meanwhile.
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { isCluster } from '../redis/redis-connection.ts';
import { globLiteral, scanKeyPages } from '../redis/scan-keys.ts';

/**
 * Resolves with the number of keys deleted. On a Cluster every master is scanned (SCAN sees one
 * node's keys) and each key is unlinked on its own: one UNLINK of keys of several slots is refused.
 */
export async function clearPrefix(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  // `a:b` -> `a:b:*`: this prefix only.
  for await (const { node, keys } of scanKeyPages(redis, `${globLiteral(prefix)}:*`)) {
    deleted += isCluster(redis) ? (await Promise.all(keys.map((key) => redis.unlink(key)))).reduce((a, b) => a + b, 0) : await node.unlink(...keys);
  }
  return deleted;
}
