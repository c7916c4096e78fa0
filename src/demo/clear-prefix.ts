/**
 * Deletes every key under one prefix (subscribers, campaigns, ledgers, the rate limiter and
 * the BullMQ queue, whose keys are `<prefix>:{<prefix>}:q:…`), so `newsletter demo` starts
 * from nothing each time. Adapter. SCAN walks the keyspace in steps and UNLINK frees
 * memory in the background: Redis keeps answering other clients meanwhile.
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { isCluster, primariesOf } from '../redis/redis-connection.ts';

/** `a:b` -> `a:b:*` with glob characters escaped, so the pattern matches this prefix only. */
function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
}

/**
 * Resolves with the number of keys deleted. On a Cluster every master is scanned (SCAN sees one
 * node's keys) and each key is unlinked on its own: one UNLINK of keys of several slots is refused.
 */
export async function clearPrefix(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for (const node of primariesOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      deleted += isCluster(redis) ? (await Promise.all(keys.map((key) => redis.unlink(key)))).reduce((a, b) => a + b, 0) : await node.unlink(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}
