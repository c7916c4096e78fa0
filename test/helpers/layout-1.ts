/**
 * Writes subscribers as layout 1 kept them (the layout before 0.2: one `<rev>|<json>` string
 * each, an email hash, and zsets scored by one join counter), for tests of the move to layout 2.
 * A whole store written by that code is test/fixtures/store-layout-1.json; this is for a few.
 */
import type { RedisClient } from '../../src/redis/redis-client.ts';
import { legacyKeys } from '../../src/subscribers/subscriber-keys.ts';
import { legacyRecordValue } from '../../src/subscribers/subscriber-record.ts';
import type { Subscriber } from '../../src/subscribers/subscriber.ts';

export async function writeLayout1Subscribers(redis: RedisClient, prefix: string, subscribers: readonly Subscriber[]): Promise<void> {
  const keys = legacyKeys(prefix);
  let seq = Number((await redis.get(keys.seq)) ?? 0);
  for (const s of subscribers) {
    await redis.set(keys.record(s.id), legacyRecordValue(s, 1));
    await redis.hset(keys.emailIndex, s.email.toLowerCase(), s.id);
    await redis.zadd(keys.all, ++seq, s.id);
    for (const list of s.lists) await redis.zadd(keys.list(list), ++seq, s.id);
  }
  await redis.set(keys.seq, seq);
}
