/**
 * Moving a store from layout 1 (one string, one email-hash field and a zset member per list
 * for each subscriber: ~880 bytes) to layout 2 (subscriber-keys.ts: ~200). Adapter.
 *
 * Online and resumable: each subscriber moves in one script call, and only if its layout-1
 * record still has the rev that was converted, so nothing written meanwhile is lost; the
 * store reads both layouts until the move is done, and a change to a subscriber still in
 * layout 1 moves it first (SubscriberStore). A subscriber keeps its id, so links already
 * sent keep working; its number (join order) is its layout-1 position. Running it again,
 * or in two processes at once, moves nobody twice.
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { emailKey } from './email-address.ts';
import { moveArgs, withScripts, type Move } from './store-scripts.ts';
import { legacyKeys, subscriberKeys, type LegacyKeys, type SubscriberKeys } from './subscriber-keys.ts';
import { parseLegacyRecord, recordValue } from './subscriber-record.ts';

export interface MigrationDeps {
  redis: RedisClient;
  prefix: string;
}

export interface MigrationReport {
  moved: number;
  /** Layout-1 records that cannot be read (left where they are, named in `damaged`). */
  damaged: string[];
  /** Subscribers still in layout 1 (damaged ones, or changed faster than they could be moved). */
  left: number;
}

/** Subscribers moved per script call. */
const BATCH = 100;

/** Moves subscribers (layout-1 ids) to layout 2; returns those moved (or found gone), leaving out ones that changed meanwhile or cannot be read. */
export async function moveSubscribers(deps: MigrationDeps, ids: readonly string[], damaged: string[] = []): Promise<number> {
  if (ids.length === 0) return 0;
  const keys = subscriberKeys(deps.prefix);
  const legacy = legacyKeys(deps.prefix);
  const pipeline = deps.redis.pipeline();
  for (const id of ids) pipeline.zscore(legacy.all, id);
  pipeline.mget(ids.map((id) => legacy.record(id)));
  const replies = (await pipeline.exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  const scores = replies.slice(0, ids.length).map(([, score]) => score as string | null);
  const values = replies[ids.length]![1] as (string | null)[];
  const moves: Move[] = [];
  ids.forEach((id, i) => {
    const score = scores[i];
    if (score === null) return; // moved already, or removed
    const n = Number(score);
    if (values[i] === null) return void moves.push({ id, n });
    const stored = parseLegacyRecord(values[i]);
    if (!stored) return void damaged.push(id);
    const { subscriber, rev } = stored;
    moves.push({ id, n, move: { rev, emailKey: emailKey(subscriber.email), value: recordValue(subscriber, Number(rev) + 1), lists: subscriber.lists } });
  });
  if (moves.length === 0) return 0;
  const buckets = await aliasBuckets(deps.redis, keys, legacy);
  const results = await withScripts(deps.redis).subscriberMoveLegacy(...(moveArgs(keys, legacy, moves, buckets) as [number, ...string[]]));
  return results.filter((r) => Number(r) === 1).length;
}

/**
 * Moves every subscriber of the store in join order, then retires layout 1's counter.
 * `onProgress` hears the running count after each batch.
 */
export async function migrateSubscriberLayout(deps: MigrationDeps, onProgress: (moved: number) => void = () => {}): Promise<MigrationReport> {
  const keys = subscriberKeys(deps.prefix);
  const legacy = legacyKeys(deps.prefix);
  const damaged: string[] = [];
  let moved = 0;
  // Passes until one moves nobody: a subscriber changed while its batch was converted is taken again in the next.
  for (let progress = true; progress;) {
    progress = false;
    let after = '-inf';
    for (;;) {
      const reply = await deps.redis.zrangebyscore(legacy.all, after, '+inf', 'WITHSCORES', 'LIMIT', 0, BATCH);
      if (reply.length === 0) break;
      const ids = reply.filter((_, i) => i % 2 === 0).filter((id) => !damaged.includes(id));
      after = `(${reply[reply.length - 1]}`;
      const count = await moveSubscribers(deps, ids, damaged);
      if (count > 0) progress = true;
      moved += count;
      onProgress(moved);
    }
  }
  const left = await deps.redis.zcard(legacy.all);
  if (left === 0) await retireCounter(deps.redis, keys, legacy);
  return { moved, damaged, left };
}

/** Layout 2's counter takes over layout 1's (new numbers stay above every moved one), which then goes. */
async function retireCounter(redis: RedisClient, keys: SubscriberKeys, legacy: LegacyKeys): Promise<void> {
  await redis.eval(
    `local old = tonumber(redis.call('GET', KEYS[2]) or '0')
     if tonumber(redis.call('GET', KEYS[1]) or '0') < old then redis.call('SET', KEYS[1], old) end
     redis.call('DEL', KEYS[2])`,
    2,
    keys.number,
    legacy.seq,
  );
}

/** Moved subscribers an alias bucket holds on average: under Redis's 128 for a compact hash, with room for chance. */
const ALIASES_PER_BUCKET = 64;

/**
 * How many buckets the ids kept from layout 1 are spread over: fixed by the first move from
 * how many there are to move (a fixed count would cost a key per few subscribers in a small
 * store), and never changed after, since every lookup hashes into it.
 */
async function aliasBuckets(redis: RedisClient, keys: SubscriberKeys, legacy: LegacyKeys): Promise<number> {
  const set = await redis.get(keys.aliasBuckets);
  if (set) return Number(set);
  const toMove = await redis.zcard(legacy.all);
  let buckets = 256;
  while (buckets * ALIASES_PER_BUCKET < toMove) buckets *= 2;
  await redis.set(keys.aliasBuckets, buckets, 'NX');
  return Number(await redis.get(keys.aliasBuckets));
}

/** Whether a store still holds subscribers in layout 1. */
export async function hasLegacySubscribers(redis: RedisClient, prefix: string): Promise<boolean> {
  const legacy = legacyKeys(prefix);
  return (await redis.exists(legacy.all, legacy.emailIndex)) > 0;
}
