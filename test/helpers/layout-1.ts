/**
 * Writes subscribers as layout 1 kept them (the layout before 0.2: one `<rev>|<json>` string
 * each, an email hash, and zsets scored by one join counter), for tests of the move to layout 2.
 * A whole store written by that code is test/fixtures/store-layout-1.json; this is for a few.
 */
import type { RedisClient } from '../../src/redis/redis-client.ts';
import { legacyKeys } from '../../src/subscribers/subscriber-keys.ts';
import type { Subscriber } from '../../src/subscribers/subscriber.ts';

export async function writeLayout1Subscribers(redis: RedisClient, prefix: string, subscribers: readonly Subscriber[]): Promise<void> {
  const keys = legacyKeys(prefix);
  let seq = Number((await redis.get(keys.seq)) ?? 0);
  for (const s of subscribers) {
    const { id, email, name, status, lists, attributes, createdAt, updatedAt, history } = s;
    await redis.set(keys.record(id), `1|${JSON.stringify({ id, email, name, status, lists, attributes, createdAt, updatedAt, history })}`);
    await redis.hset(keys.emailIndex, email.toLowerCase(), id);
    await redis.zadd(keys.all, ++seq, id);
    for (const list of lists) await redis.zadd(keys.list(list), ++seq, id);
  }
  await redis.set(keys.seq, seq);
}
