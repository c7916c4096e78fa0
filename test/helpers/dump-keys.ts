import type { RedisClient } from '../../src/redis/redis-client.ts';
import { scanKeys } from '../../src/redis/scan-keys.ts';

export interface KeyDump {
  type: string;
  value: unknown;
  /** Whether the key has a TTL (its exact remaining time moves, so only presence is compared). */
  expires: boolean;
}

/**
 * Every key under the prefix with its type, value and whether it expires, for "the store is
 * exactly unchanged" checks. Pass a test's REDIS_PREFIX to cover everything the app writes for
 * it: subscribers, campaigns, ledgers, rate-limit counters and the BullMQ queue, whose keys
 * (`<prefix>:{<prefix>}:q:*`, see deliveryQueuePrefix) start with the same prefix.
 */
export async function dumpKeys(redis: RedisClient, prefix: string): Promise<Record<string, KeyDump>> {
  const keys = await scanKeys(redis, `${prefix}*`);
  const dump: Record<string, KeyDump> = {};
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    let value: unknown;
    if (type === 'hash') value = await redis.hgetall(key);
    else if (type === 'zset') value = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'string') value = await redis.get(key);
    else if (type === 'set') value = (await redis.smembers(key)).sort();
    else if (type === 'list') value = await redis.lrange(key, 0, -1);
    else if (type === 'stream') value = await redis.xrange(key, '-', '+');
    else value = type;
    dump[key] = { type, value, expires: (await redis.pttl(key)) >= 0 };
  }
  return dump;
}

/**
 * A dump with each hash field as an entry of its own (`<key>#<field>`), other keys whole: a
 * subscriber is one field of a bucket hash, so "only this subscriber changed" is a question
 * about fields.
 */
export function dumpEntries(dump: Record<string, KeyDump>): Record<string, unknown> {
  const entries: Record<string, unknown> = {};
  for (const [key, { type, value }] of Object.entries(dump)) {
    if (type === 'hash') for (const [field, text] of Object.entries(value as Record<string, string>)) entries[`${key}#${field}`] = text;
    else entries[key] = value;
  }
  return entries;
}

/** The entries (see dumpEntries) that differ between two dumps, sorted. */
export function changedEntries(before: Record<string, KeyDump>, after: Record<string, KeyDump>): string[] {
  const [was, now] = [dumpEntries(before), dumpEntries(after)];
  return [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((key) => JSON.stringify(was[key]) !== JSON.stringify(now[key])).sort();
}
