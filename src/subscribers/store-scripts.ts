/**
 * Lua scripts that change a subscriber and its indexes in one atomic step, and how the store
 * calls them. Each write is a compare-and-set on the record's `rev`, so the read-modify-write
 * logic lives in TypeScript (readable, testable) while two writers can never overwrite each
 * other's change: the loser gets 0 and re-reads.
 *
 * Keys: a new subscriber's number is given out inside the script, so the record bucket it
 * lands in is named there too (`<record prefix><n div 128>`); every other key is passed in.
 * All of them share the newsletter's hash tag, so on a Cluster they are in the slot of the
 * first key and the scripts run there (test/redis/cluster-scripts.test.ts runs each one).
 */
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../redis/redis-client.ts';
import type { Subscriber } from './subscriber.ts';
import { ALL_COUNT, BUCKET_SIZE, type LegacyKeys, type SubscriberKeys } from './subscriber-keys.ts';
import { recordValue } from './subscriber-record.ts';

/** Shared by the scripts: membership bits and their counts, and the next subscriber number. */
const LUA_COMMON = `
local BUCKET = ${BUCKET_SIZE}
local function bucketKey(prefix, n) return prefix .. math.floor(n / BUCKET) end
local function fieldOf(n) return tostring(n % BUCKET) end
-- Membership: a bit that changes moves its list's count, summed over the call and written
-- once at its end (an import changes hundreds). A list (or everybody) at 0 leaves the counts
-- hash and its bitmap goes (zero bits would otherwise keep its bytes).
local moves = {}
local function member(key, name, n, on)
  if (redis.call('SETBIT', key, n, on and 1 or 0) == 1) ~= on then
    local move = moves[key] or {name, 0}
    move[2] = move[2] + (on and 1 or -1)
    moves[key] = move
  end
end
local function writeCounts(countsKey)
  for key, move in pairs(moves) do
    if move[2] ~= 0 and redis.call('HINCRBY', countsKey, move[1], move[2]) <= 0 then
      redis.call('HDEL', countsKey, move[1])
      redis.call('DEL', key)
    end
  end
end
local function revOf(value) return value and string.match(value, '^(%d+)|') end
`;

/**
 * Writes many records in one call (an import sends hundreds at a time: one script call per
 * record cost more than the writes themselves), each one a compare-and-set of its own, in order.
 * KEYS: 1 number counter, 2 counts hash, 3 everybody's bitmap, 4 layout-1 counter, 5 layout-1
 *       email index, then per record: its email bucket, the bitmaps of lists to join, to leave.
 * ARGV: 1 record bucket prefix, 2 list bitmap prefix, then per record 6 values: expected rev
 *       ("0" = create), email key, n (empty for a create), nJoin, nLeave, and the value to
 *       store, `<expected rev + 1>|<record>` (built by the caller).
 * Returns per record: for a create its new number, -1 when the address exists, -2 when it
 * exists in layout 1 (move it first); for an update the new rev, 0 when the rev moved on.
 * New numbers continue layout 1's counter, so join order runs on across the move.
 */
const WRITE_MANY = `${LUA_COMMON}
-- The counter, like the counts, is read and written once a call, not once a record.
local number = tonumber(redis.call('GET', KEYS[1]) or redis.call('GET', KEYS[4]) or '0')
local numberBefore = number
local hasLegacy = redis.call('EXISTS', KEYS[5]) == 1
local listPrefix = ARGV[2]
local function listName(key) return string.sub(key, #listPrefix + 1) end
local results = {}
local k = 6
for a = 3, #ARGV, 6 do
  local expected, emailKey, nJoin, nLeave, value = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), ARGV[a + 5]
  local result = 0
  local n = tonumber(ARGV[a + 2])
  if expected == '0' then
    if redis.call('HEXISTS', KEYS[k], emailKey) == 1 then
      result = -1
    elseif hasLegacy and redis.call('HEXISTS', KEYS[5], emailKey) == 1 then
      result = -2
    else
      number = number + 1
      n = number
      redis.call('HSET', KEYS[k], emailKey, n)
      redis.call('HSET', bucketKey(ARGV[1], n), fieldOf(n), value)
      member(KEYS[3], '${ALL_COUNT}', n, true)
      result = n
    end
  else
    local bucket = bucketKey(ARGV[1], n)
    if revOf(redis.call('HGET', bucket, fieldOf(n))) == expected then
      redis.call('HSET', bucket, fieldOf(n), value)
      result = tonumber(expected) + 1
    end
  end
  if result > 0 then
    for i = k + 1, k + nJoin do member(KEYS[i], listName(KEYS[i]), n, true) end
    for i = k + nJoin + 1, k + nJoin + nLeave do member(KEYS[i], listName(KEYS[i]), n, false) end
  end
  results[#results + 1] = result
  k = k + 1 + nJoin + nLeave
end
if number ~= numberBefore then redis.call('SET', KEYS[1], number) end
writeCounts(KEYS[2])
return results
`;

/**
 * KEYS: 1 email bucket, 2 counts hash, 3 everybody's bitmap, 4 the layout-1 id's alias
 *       bucket (any key when it has none), 5.. the bitmaps of its lists.
 * ARGV: 1 record bucket prefix, 2 list bitmap prefix, 3 n, 4 expected rev, 5 email key,
 *       6 layout-1 id or "", 7 its layout-1 id bucket prefix.
 * Returns 1 when deleted, 0 when the rev moved on.
 */
const REMOVE = `${LUA_COMMON}
local n = tonumber(ARGV[3])
local bucket = bucketKey(ARGV[1], n)
if revOf(redis.call('HGET', bucket, fieldOf(n))) ~= ARGV[4] then return 0 end
redis.call('HDEL', bucket, fieldOf(n))
if redis.call('HGET', KEYS[1], ARGV[5]) == tostring(n) then redis.call('HDEL', KEYS[1], ARGV[5]) end
member(KEYS[3], '${ALL_COUNT}', n, false)
for i = 5, #KEYS do member(KEYS[i], string.sub(KEYS[i], #ARGV[2] + 1), n, false) end
writeCounts(KEYS[2])
if ARGV[6] ~= '' then
  redis.call('HDEL', KEYS[4], ARGV[6])
  redis.call('HDEL', bucketKey(ARGV[7], n), fieldOf(n))
end
return 1
`;

/**
 * One subscriber by a layout-1 id, wherever it is now (read in one step, so a move in
 * between cannot hide it). KEYS: 1 its alias bucket, 2 its layout-1 record.
 * ARGV: 1 record bucket prefix, 2 the id. Returns {n, record} or {'', layout-1 record}.
 */
const READ_LEGACY_ID = `${LUA_COMMON}
local n = redis.call('HGET', KEYS[1], ARGV[2])
if n then return {n, redis.call('HGET', bucketKey(ARGV[1], tonumber(n)), fieldOf(tonumber(n))) or false} end
return {'', redis.call('GET', KEYS[2]) or false}
`;

/**
 * Moves subscribers from layout 1 (subscriber-migration.ts), each only if its layout-1 record
 * still has the rev the caller converted.
 * KEYS: 1 counts hash, 2 everybody's bitmap, 3 layout-1 email index, 4 layout-1 everybody zset,
 *       then per subscriber: its layout-1 record, email bucket, alias bucket, the bitmaps of
 *       its lists, then its layout-1 list zsets (as many).
 * ARGV: 1 record bucket prefix, 2 list bitmap prefix, 3 layout-1 id bucket prefix, then per
 *       subscriber: id, expected rev ("" = its record is gone: only drop it from the zset),
 *       n, email key, value, number of lists.
 * Returns per subscriber 1 moved (or dropped), 0 when its record changed meanwhile.
 */
const MOVE_LEGACY = `${LUA_COMMON}
local results = {}
local k = 5
for a = 4, #ARGV, 6 do
  local id, expected, n, emailKey, value, nLists = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4], tonumber(ARGV[a + 5])
  local result = 0
  local current = redis.call('GET', KEYS[k])
  if expected == '' then
    if not current then redis.call('ZREM', KEYS[4], id); result = 1 end
  elseif revOf(current) == expected then
    redis.call('HSET', KEYS[k + 1], emailKey, n)
    redis.call('HSET', bucketKey(ARGV[1], n), fieldOf(n), value)
    redis.call('HSET', KEYS[k + 2], id, n)
    redis.call('HSET', bucketKey(ARGV[3], n), fieldOf(n), id)
    member(KEYS[2], '${ALL_COUNT}', n, true)
    for i = 1, nLists do
      local bits = KEYS[k + 2 + i]
      member(bits, string.sub(bits, #ARGV[2] + 1), n, true)
      redis.call('ZREM', KEYS[k + 2 + nLists + i], id)
    end
    redis.call('DEL', KEYS[k])
    if redis.call('HGET', KEYS[3], emailKey) == id then redis.call('HDEL', KEYS[3], emailKey) end
    redis.call('ZREM', KEYS[4], id)
    result = 1
  end
  results[#results + 1] = result
  k = k + 3 + 2 * nLists
end
writeCounts(KEYS[1])
return results
`;

/**
 * Email keys to subscriber numbers in one call (an import looks up 500 at a time: a command per
 * address cost the client more than Redis). KEYS: each address's email bucket; ARGV: the
 * addresses. Returns each number, or false.
 */
const FIND_EMAILS = `
local found = {}
for i = 1, #KEYS do found[i] = redis.call('HGET', KEYS[i], ARGV[i]) end
return found
`;

interface ScriptCommands {
  subscriberWriteMany(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  subscriberRemove(numKeys: number, ...args: (string | number)[]): Promise<number>;
  subscriberReadLegacyId(numKeys: number, ...args: (string | number)[]): Promise<[string, string | null]>;
  subscriberMoveLegacy(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  subscriberFindEmails(numKeys: number, ...args: string[]): Promise<(string | null)[]>;
}

export type ScriptedRedis = RedisClient & ScriptCommands;
export type ScriptedPipeline = ChainableCommander & {
  subscriberWriteMany(numKeys: number, ...args: (string | number)[]): ChainableCommander;
  subscriberReadLegacyId(numKeys: number, ...args: (string | number)[]): ChainableCommander;
};

const defined = new WeakSet<RedisClient>();

/** Registers the scripts on a connection once (ioredis sends EVALSHA, falling back to EVAL). */
export function withScripts(redis: RedisClient): ScriptedRedis {
  if (!defined.has(redis)) {
    redis.defineCommand('subscriberWriteMany', { lua: WRITE_MANY });
    redis.defineCommand('subscriberRemove', { lua: REMOVE });
    redis.defineCommand('subscriberReadLegacyId', { lua: READ_LEGACY_ID });
    redis.defineCommand('subscriberMoveLegacy', { lua: MOVE_LEGACY });
    redis.defineCommand('subscriberFindEmails', { lua: FIND_EMAILS });
    defined.add(redis);
  }
  return redis as ScriptedRedis;
}

/** Records per script call: enough to share a call's cost, few enough that one call holds Redis for about a millisecond. */
const WRITE_CHUNK = 100;

/** One compare-and-set write: the record after, its number (undefined: create), the rev it must still have, its lists before. */
export interface Write {
  after: Subscriber;
  n: number | undefined;
  rev: string;
  emailKey: string;
  listsBefore: readonly string[];
}

/** Queues the writes, in order, as WRITE_MANY calls of up to WRITE_CHUNK records; returns how many calls. */
export function queueWrites(pipeline: ScriptedPipeline, keys: SubscriberKeys, legacy: LegacyKeys, writes: readonly Write[]): number {
  let calls = 0;
  for (let first = 0; first < writes.length; first += WRITE_CHUNK, calls++) {
    const scriptKeys = [keys.number, keys.counts, keys.members(undefined), legacy.seq, legacy.emailIndex];
    const args: string[] = [keys.recordBucketPrefix, keys.membersPrefix];
    for (const { after, n, rev, emailKey, listsBefore } of writes.slice(first, first + WRITE_CHUNK)) {
      const join = after.lists.filter((l) => !listsBefore.includes(l));
      const leave = listsBefore.filter((l) => !after.lists.includes(l));
      scriptKeys.push(keys.emailBucket(emailKey), ...join.map(keys.members), ...leave.map(keys.members));
      args.push(rev, emailKey, n === undefined ? '' : String(n), String(join.length), String(leave.length), recordValue(after, Number(rev) + 1));
    }
    pipeline.subscriberWriteMany(scriptKeys.length, ...scriptKeys, ...args);
  }
  return calls;
}

/** Runs the pipeline; the result of each queued write (see WRITE_MANY), in order. */
export async function execWrites(pipeline: ScriptedPipeline, calls: number): Promise<number[]> {
  const replies = ((await pipeline.exec()) ?? []).slice(0, calls);
  return replies.flatMap(([error, values]) => {
    if (error) throw error;
    return (values as number[]).map(Number);
  });
}

/** The arguments of REMOVE for subscriber n. */
export function removeArgs(
  keys: SubscriberKeys,
  n: number,
  rev: string,
  emailKey: string,
  lists: readonly string[],
  legacy: { id: string; buckets: number | undefined } | undefined,
): (string | number)[] {
  const legacyId = legacy?.id;
  const scriptKeys = [
    keys.emailBucket(emailKey),
    keys.counts,
    keys.members(undefined),
    keys.aliasBucket(legacyId ?? '', legacy?.buckets),
    ...lists.map(keys.members),
  ];
  const prefixes = [keys.recordBucketPrefix, keys.membersPrefix];
  return [scriptKeys.length, ...scriptKeys, ...prefixes, n, rev, emailKey, legacyId ?? '', keys.legacyIdBucketPrefix];
}

/** The arguments of READ_LEGACY_ID. */
export function readLegacyIdArgs(keys: SubscriberKeys, legacy: LegacyKeys, id: string, aliasBuckets: number | undefined): (string | number)[] {
  return [2, keys.aliasBucket(id, aliasBuckets), legacy.record(id), keys.recordBucketPrefix, id];
}

/** One subscriber to move from layout 1: undefined `move` when its record is gone. */
export interface Move {
  id: string;
  n: number;
  move?: { rev: string; emailKey: string; value: string; lists: readonly string[] };
}

/** The arguments of MOVE_LEGACY for a batch. */
export function moveArgs(keys: SubscriberKeys, legacy: LegacyKeys, moves: readonly Move[], aliasBuckets: number): (string | number)[] {
  const scriptKeys = [keys.counts, keys.members(undefined), legacy.emailIndex, legacy.all];
  const args: (string | number)[] = [keys.recordBucketPrefix, keys.membersPrefix, keys.legacyIdBucketPrefix];
  for (const { id, n, move } of moves) {
    const lists = move?.lists ?? [];
    scriptKeys.push(
      legacy.record(id),
      keys.emailBucket(move?.emailKey ?? id),
      keys.aliasBucket(id, aliasBuckets),
      ...lists.map(keys.members),
      ...lists.map(legacy.list),
    );
    args.push(id, move?.rev ?? '', n, move?.emailKey ?? '', move?.value ?? '', lists.length);
  }
  return [scriptKeys.length, ...scriptKeys, ...args];
}
