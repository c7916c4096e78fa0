/**
 * Reading subscribers' records, wherever they are: layout 2 (subscriber-keys.ts), or layout 1
 * while a store is being moved (subscriber-migration.ts). Adapter, used by SubscriberStore.
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { readLegacyIdArgs, withScripts, type ScriptedPipeline, type ScriptedRedis } from './store-scripts.ts';
import { idOfNumber, numberOfId } from './subscriber-id.ts';
import { bucketOf, fieldOf, legacyKeys, subscriberKeys, type LegacyKeys, type SubscriberKeys } from './subscriber-keys.ts';
import { hasLegacySubscribers } from './subscriber-migration.ts';
import { parseLegacyRecord, parseRecord } from './subscriber-record.ts';
import type { Subscriber } from './subscriber.ts';

/** A record as read: `n` undefined when it is still in layout 1 (move it before changing it). */
export type Stored = { subscriber: Subscriber; rev: string; n: number | undefined; legacyId: string | undefined };

/** How long a "no layout-1 data here" answer is trusted before asking again (a layout-1 writer could still be running). */
const LEGACY_CHECK_MS = 1000;

export class RecordReader {
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly keys: SubscriberKeys;
  private readonly legacy: LegacyKeys;
  /** Layout 1 once gone stays gone: after that it is asked at most once a second. */
  private legacyGone = false;
  private legacyCheckedAt = 0;
  /** How many alias buckets the move from layout 1 made (it never changes once set); undefined: none yet. */
  private aliasBucketCount: number | undefined;
  /** When "no move has begun" was last read (asked again after LEGACY_CHECK_MS, like layout 1's presence). */
  private aliasCheckedAt = 0;

  constructor({ redis, prefix }: { redis: RedisClient; prefix: string }) {
    this.redis = withScripts(redis);
    this.prefix = prefix;
    this.keys = subscriberKeys(prefix);
    this.legacy = legacyKeys(prefix);
  }

  /** After a move: ask again whether layout 1 is there. */
  forgetLegacyCheck(): void {
    this.legacyCheckedAt = 0;
  }

  /** Whether layout-1 subscribers may still be there (see LEGACY_CHECK_MS). */
  async legacyPresent(): Promise<boolean> {
    if (this.legacyGone && Date.now() - this.legacyCheckedAt < LEGACY_CHECK_MS) return false;
    this.legacyGone = !(await hasLegacySubscribers(this.redis, this.prefix));
    this.legacyCheckedAt = Date.now();
    return !this.legacyGone;
  }

  /** The ids of these email keys (undefined where none), layout 1 read first so that a subscriber moved in between is still found. */
  async idsByEmail(emailKeys: readonly string[]): Promise<(string | undefined)[]> {
    if (emailKeys.length === 0) return [];
    const old = (await this.legacyPresent()) ? await this.redis.hmget(this.legacy.emailIndex, ...emailKeys) : [];
    const numbers = await this.redis.subscriberFindEmails(emailKeys.length, ...emailKeys.map((key) => this.keys.emailBucket(key)), ...emailKeys);
    return emailKeys.map((_, i) => old[i] ?? (numbers[i] ? idOfNumber(Number(numbers[i])) : undefined));
  }

  /**
   * One round trip: number ids grouped by bucket (one HMGET of records and one of kept
   * layout-1 ids per 128 subscribers); a layout-1 id through a script that finds it in
   * either layout. Empty ids (addresses not in the index) are not asked for.
   */
  async readMany(ids: readonly (string | undefined)[]): Promise<(Stored | undefined)[]> {
    const layout1Ids = ids.filter((id) => id && numberOfId(id) === undefined);
    if (layout1Ids.length === 0) {
      const withKeptIds = await this.keptIdsMayExist();
      const n = ids.length === 1 && ids[0] ? numberOfId(ids[0]) : undefined;
      // One subscriber (the check right before each send): one command, which a worker's
      // connection batches with its others; a pipeline of its own cost the send ~10 % (bench:send-replica).
      if (n !== undefined && !withKeptIds)
        return [withNumber(parseRecord(ids[0]!, await this.redis.hget(this.keys.recordBucket(n), fieldOf(n))), n, undefined)];
      return this.readManyOnce(ids, undefined, withKeptIds);
    }
    const aliasBuckets = await this.aliasBuckets();
    const found = await this.readManyOnce(ids, aliasBuckets, true);
    // Read before any move had begun: one that began since may have moved one we missed.
    if (aliasBuckets === undefined && found.some((s, i) => !s && layout1Ids.includes(ids[i])) && (await this.aliasBuckets({ fresh: true })) !== undefined)
      return this.readMany(ids);
    return found;
  }

  /**
   * The alias bucket count once a move from layout 1 has set it (kept: it never changes);
   * undefined while no move has begun, asked again after LEGACY_CHECK_MS, or at once when `fresh`.
   */
  async aliasBuckets({ fresh = false } = {}): Promise<number | undefined> {
    if (this.aliasBucketCount === undefined && (fresh || Date.now() - this.aliasCheckedAt >= LEGACY_CHECK_MS)) {
      const set = await this.redis.get(this.keys.aliasBuckets);
      this.aliasCheckedAt = Date.now();
      if (set) this.aliasBucketCount = Number(set);
    }
    return this.aliasBucketCount;
  }

  /**
   * Whether some subscriber may have kept a layout-1 id: a move has begun, or layout 1 is
   * there to be moved. Only then is the number -> id map read: a store that never had layout 1
   * (most) reads one hash field per subscriber, on the send path too.
   */
  private async keptIdsMayExist(): Promise<boolean> {
    return (await this.aliasBuckets()) !== undefined || (await this.legacyPresent());
  }

  /** Each number's id: the layout-1 id it kept, or the number itself. One HMGET per 128 subscribers, none when no move was ever made. */
  async idsOfNumbers(numbers: readonly number[]): Promise<string[]> {
    if (numbers.length === 0 || !(await this.keptIdsMayExist())) return numbers.map(idOfNumber);
    const buckets = groupByBucket(numbers);
    const pipeline = this.redis.pipeline();
    for (const members of buckets.values()) pipeline.hmget(this.keys.legacyIdBucket(members[0]!), ...members.map(fieldOf));
    const kept = new Map<number, string>();
    ((await pipeline.exec()) ?? []).forEach(([error, values], i) => {
      if (error) throw error;
      const members = [...buckets.values()][i]!;
      members.forEach((n, j) => {
        const id = (values as (string | null)[])[j];
        if (id) kept.set(n, id);
      });
    });
    return numbers.map((n) => kept.get(n) ?? idOfNumber(n));
  }

  /** `withKeptIds`: also read which numbers kept a layout-1 id (see keptIdsMayExist). */
  private async readManyOnce(ids: readonly (string | undefined)[], aliasBuckets: number | undefined, withKeptIds: boolean): Promise<(Stored | undefined)[]> {
    const pipeline = this.redis.pipeline() as ScriptedPipeline;
    const buckets = new Map<number, number[]>();
    const asks: (() => Stored | undefined)[] = [];
    const replies: [Error | null, unknown][] = [];
    let calls = 0;
    const call = () => calls++;
    const reply = (i: number) => {
      const [error, value] = replies[i]!;
      if (error) throw error;
      return value;
    };
    for (const id of ids) {
      const n = id ? numberOfId(id) : undefined;
      if (!id) asks.push(() => undefined);
      else if (n === undefined) {
        pipeline.subscriberReadLegacyId(...(readLegacyIdArgs(this.keys, this.legacy, id, aliasBuckets) as [number, ...string[]]));
        const i = call();
        asks.push(() => {
          const [moved, value] = reply(i) as [string, string | null];
          if (!moved) return withNumber(parseLegacyRecord(value), undefined, id);
          return withNumber(parseRecord(id, value), Number(moved), id);
        });
      } else {
        const bucket = bucketOf(n);
        let members = buckets.get(bucket);
        if (!members) buckets.set(bucket, (members = []));
        const position = members.length;
        members.push(n);
        asks.push(() => {
          const [records, legacyIds] = bucketReplies.get(bucket)!;
          const legacyId = legacyIds?.[position] ?? undefined;
          return withNumber(parseRecord(legacyId ?? id, records[position]), n, legacyId);
        });
      }
    }
    const bucketCalls = new Map<number, [number, number | undefined]>();
    for (const [bucket, members] of buckets) {
      pipeline.hmget(this.keys.recordBucket(members[0]!), ...members.map(fieldOf));
      if (withKeptIds) pipeline.hmget(this.keys.legacyIdBucket(members[0]!), ...members.map(fieldOf));
      bucketCalls.set(bucket, [call(), withKeptIds ? call() : undefined]);
    }
    if (calls === 0) return ids.map(() => undefined);
    replies.push(...((await pipeline.exec()) ?? []));
    const bucketReplies = new Map<number, [(string | null)[], (string | null)[] | undefined]>();
    for (const [bucket, [records, legacyIds]] of bucketCalls)
      bucketReplies.set(bucket, [reply(records) as (string | null)[], legacyIds === undefined ? undefined : (reply(legacyIds) as (string | null)[])]);
    return asks.map((ask) => ask());
  }
}

function withNumber(stored: { subscriber: Subscriber; rev: string } | undefined, n: number | undefined, legacyId: string | undefined): Stored | undefined {
  if (!stored) return undefined;
  // Filled in place, not spread into a new object: this runs for every row an import reads.
  const found = stored as Stored;
  found.n = n;
  found.legacyId = n === undefined ? undefined : legacyId;
  return found;
}

/** Numbers by the bucket they live in, each in the order given. */
function groupByBucket(numbers: readonly number[]): Map<number, number[]> {
  const buckets = new Map<number, number[]>();
  for (const n of numbers) {
    const members = buckets.get(bucketOf(n));
    if (members) members.push(n);
    else buckets.set(bucketOf(n), [n]);
  }
  return buckets;
}
