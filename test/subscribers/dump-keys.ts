import type { Redis } from 'ioredis';

/** Every key under the prefix with its type and value, for "the store is exactly unchanged" checks. */
export async function dumpKeys(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const dump: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    if (type === 'hash') dump[key] = await redis.hgetall(key);
    else if (type === 'zset') dump[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'string') dump[key] = await redis.get(key);
    else if (type === 'set') dump[key] = (await redis.smembers(key)).sort();
    else if (type === 'list') dump[key] = await redis.lrange(key, 0, -1);
    else dump[key] = type;
  }
  return dump;
}
