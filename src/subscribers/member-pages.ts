/**
 * Pages of a list's members in join order, read from the membership bitmaps (and, while a
 * store is being moved from layout 1, from layout 1's zsets too). Adapter, used by
 * SubscriberStore.
 *
 * A member's position is its subscriber number, which never changes, so a cursor stays
 * valid whatever joins or leaves meanwhile. While subscribers are being moved, a page is
 * read from layout 1 first and layout 2 second: one moved in between shows up in both
 * (same number, counted once), never in neither.
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { setBits } from './set-bits.ts';
import type { RecordReader } from './record-reader.ts';
import type { LegacyKeys, SubscriberKeys } from './subscriber-keys.ts';

export interface MemberPage {
  ids: string[];
  /** The cursor to continue from; undefined when the list is read to its end. */
  next: number | undefined;
  /** The position of the last member in ids. */
  last: number | undefined;
}

/** Bytes of bitmap read per round trip at first (32,768 subscribers), doubling up to the largest for a sparse list. */
const FIRST_CHUNK = 4096;
const LARGEST_CHUNK = 65_536;

export interface MemberPageDeps {
  redis: RedisClient;
  keys: SubscriberKeys;
  legacy: LegacyKeys;
  /** Whether layout-1 data may still be there, and each number's id. */
  reader: Pick<RecordReader, 'legacyPresent' | 'idsOfNumbers'>;
}

export async function readMemberPage(deps: MemberPageDeps, list: string | undefined, after: number, limit: number): Promise<MemberPage> {
  let bound = Infinity;
  const found = new Map<number, string | undefined>();
  if (await deps.reader.legacyPresent()) {
    const old = await readLegacyPage(deps, list, after, limit);
    bound = old.bound;
    for (const [n, id] of old.members) found.set(n, id);
  }
  const fresh = await scanMembers(deps, deps.keys.members(list), after + 1, bound, limit);
  if (fresh.length === limit) bound = Math.min(bound, fresh[fresh.length - 1]!);
  for (const n of fresh) if (!found.has(n)) found.set(n, undefined);
  const numbers = [...found.keys()]
    .filter((n) => n <= bound)
    .sort((a, b) => a - b)
    .slice(0, limit);
  // Ones read from layout 1 come with their id; the others' ids are their numbers or a kept layout-1 id.
  const unnamed = numbers.filter((n) => found.get(n) === undefined);
  const named = new Map(unnamed.map((n, i) => [n, i]));
  const unnamedIds = await deps.reader.idsOfNumbers(unnamed);
  const ids = numbers.map((n) => found.get(n) ?? unnamedIds[named.get(n)!]!);
  const last = numbers.length ? numbers[numbers.length - 1] : undefined;
  const next = numbers.length === limit ? last : Number.isFinite(bound) ? bound : undefined;
  return { ids, next, last };
}

/** Set bits from `from` up to `upTo`, at most limit, reading the bitmap in growing chunks. */
async function scanMembers({ redis }: MemberPageDeps, key: string, from: number, upTo: number, limit: number): Promise<number[]> {
  const found: number[] = [];
  let byte = Math.floor(from / 8);
  for (let size = FIRST_CHUNK; found.length < limit && byte * 8 <= upTo; size = Math.min(size * 2, LARGEST_CHUNK)) {
    const bytes = await redis.getrangeBuffer(key, byte, byte + size - 1);
    found.push(...setBits(bytes, byte * 8, from, upTo, limit - found.length));
    if (bytes.length < size) break;
    byte += size;
  }
  return found;
}

/** Members still in layout 1 after a position; `bound`: how far the read reached (Infinity: to the end). */
async function readLegacyPage({ redis, legacy }: MemberPageDeps, list: string | undefined, after: number, limit: number) {
  const reply = await redis.zrangebyscore(legacy.all, `(${after}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit);
  const ids: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    ids.push(reply[i]!);
    scores.push(Number(reply[i + 1]));
  }
  const bound = ids.length === limit ? scores[scores.length - 1]! : Infinity;
  const onList = list === undefined || ids.length === 0 ? ids.map(() => true) : (await redis.zmscore(legacy.list(list), ...ids)).map((s) => s !== null);
  const members = new Map<number, string>();
  ids.forEach((id, i) => onList[i] && members.set(scores[i]!, id));
  return { members, bound };
}
