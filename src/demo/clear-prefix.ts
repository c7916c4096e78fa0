/**
 * Deletes every key under one prefix (subscribers, campaigns, ledgers, the rate limiter and
 * the BullMQ queue, whose keys are `<prefix>:{<prefix>}:q:…`), so `newsletter demo` starts
 * from nothing each time. Adapter. SCAN walks the keyspace in steps and UNLINK frees
 * memory in the background: Redis keeps answering other clients meanwhile.
 */
import type { Redis } from 'ioredis';

/** `a:b` -> `a:b:*` with glob characters escaped, so the pattern matches this prefix only. */
function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
}

/** Resolves with the number of keys deleted. */
export async function clearPrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
