/**
 * Lua scripts that change a subscriber and its indexes in one atomic step, and how the store
 * calls them. Each write is a compare-and-set on the record's `rev`, so the read-modify-write
 * logic lives in TypeScript (readable, testable) while two writers can never overwrite each
 * other's change: the loser gets 0 and re-reads. All keys share one hash tag, so the scripts
 * also run on Redis Cluster.
 */
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../redis/redis-client.ts';
import type { Subscriber } from './subscriber.ts';
import type { SubscriberKeys } from './subscriber-keys.ts';
import { recordValue } from './subscriber-record.ts';

/**
 * A record is one string `<rev>|<json>`: a hash would hold the same data, but its history
 * field outgrows Redis's compact encoding and then costs about twice the memory.
 *
 * Writes many records in one call (an import sends hundreds at a time: one script call per
 * record cost more than the writes themselves), each one a compare-and-set of its own, in order.
 * KEYS: 1 email index hash, 2 all-subscribers zset, 3 sequence counter, then per record:
 *       the record, its list zsets to join, its list zsets to leave.
 * ARGV: per record 6 values: expected rev ("0" = create), email key, id, nJoin, nLeave, and the
 *       value to store, `<expected rev + 1>|<json>` (built by the caller: concatenating it in Lua
 *       copied every record once more, ~0.6 us of Redis CPU a record).
 * Returns per record the new rev, 0 when the rev moved on, -1 when creating an address that exists.
 * Scores come from one counter, so every zset keeps a stable join order for paging. A record
 * costs Redis 2 calls: the zset members of the whole call go in one ZADD per zset, and the
 * counter is read and written once.
 */
const WRITE_MANY = `
local seq = tonumber(redis.call('GET', KEYS[3]) or '0')
local seqBefore = seq
local joins = {}
local function join(key, id)
  seq = seq + 1
  local members = joins[key]
  if not members then members = {}; joins[key] = members end
  members[#members + 1] = seq
  members[#members + 1] = id
end
-- NX: a member keeps its place in a zset it is already in.
local function addJoins(key)
  local members = joins[key]
  if members then redis.call('ZADD', key, 'NX', unpack(members)); joins[key] = nil end
end
local results = {}
local k = 4
for a = 1, #ARGV, 6 do
  local expected, id, nJoin, nLeave = ARGV[a], ARGV[a + 2], tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local result = 0
  if expected == '0' then
    -- Create: no record may have this address, and the record must not exist (its rev is "0").
    -- The address first: an import that writes before reading sends existing ones here.
    if redis.call('HSETNX', KEYS[1], ARGV[a + 1], id) == 0 then
      result = -1
    elseif redis.call('SET', KEYS[k], ARGV[a + 5], 'NX') then
      join(KEYS[2], id)
      result = 1
    else
      redis.call('HDEL', KEYS[1], ARGV[a + 1])
    end
  else
    local current = redis.call('GET', KEYS[k])
    if current and string.match(current, '^(%d+)|') == expected then
      result = tonumber(expected) + 1
      redis.call('SET', KEYS[k], ARGV[a + 5])
    end
  end
  if result > 0 then
    for i = k + 1, k + nJoin do join(KEYS[i], id) end
    for i = k + nJoin + 1, k + nJoin + nLeave do
      addJoins(KEYS[i]) -- a join earlier in this call happens before the leave
      redis.call('ZREM', KEYS[i], id)
    end
  end
  results[#results + 1] = result
  k = k + 1 + nJoin + nLeave
end
for key in pairs(joins) do addJoins(key) end
if seq ~= seqBefore then redis.call('SET', KEYS[3], seq) end
return results
`;

/**
 * KEYS: 1 record, 2 email index hash, 3 all-subscribers zset, 4.. list zsets.
 * ARGV: 1 expected rev, 2 email key, 3 id. Returns 1 when deleted, 0 when the rev moved on.
 */
const REMOVE = `
local current = redis.call('GET', KEYS[1])
if not current or string.match(current, '^(%d+)|') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[3] then redis.call('HDEL', KEYS[2], ARGV[2]) end
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[3]) end
return 1
`;

interface ScriptCommands {
  subscriberWriteMany(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  subscriberRemove(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

export type ScriptedRedis = RedisClient & ScriptCommands;
export type ScriptedPipeline = ChainableCommander & {
  subscriberWriteMany(numKeys: number, ...args: (string | number)[]): ChainableCommander;
};

const defined = new WeakSet<RedisClient>();

/** Registers the scripts on a connection once (ioredis sends EVALSHA, falling back to EVAL). */
export function withScripts(redis: RedisClient): ScriptedRedis {
  if (!defined.has(redis)) {
    redis.defineCommand('subscriberWriteMany', { lua: WRITE_MANY });
    redis.defineCommand('subscriberRemove', { lua: REMOVE });
    defined.add(redis);
  }
  return redis as ScriptedRedis;
}

/** Records per script call: enough to share a call's cost, few enough that one call holds Redis for about a millisecond. */
const WRITE_CHUNK = 100;

/** One compare-and-set write: the record after, the rev it must still have, its lists before. */
export interface Write {
  after: Subscriber;
  rev: string;
  emailKey: string;
  listsBefore: readonly string[];
}

/** Queues the writes, in order, as WRITE_MANY calls of up to WRITE_CHUNK records; returns how many calls. */
export function queueWrites(pipeline: ScriptedPipeline, keys: SubscriberKeys, writes: readonly Write[]): number {
  let calls = 0;
  for (let first = 0; first < writes.length; first += WRITE_CHUNK, calls++) {
    const scriptKeys = [keys.emailIndex, keys.all, keys.seq];
    const args: string[] = [];
    for (const { after, rev, emailKey, listsBefore } of writes.slice(first, first + WRITE_CHUNK)) {
      const join = after.lists.filter((l) => !listsBefore.includes(l));
      const leave = listsBefore.filter((l) => !after.lists.includes(l));
      scriptKeys.push(keys.record(after.id), ...join.map(keys.list), ...leave.map(keys.list));
      args.push(rev, emailKey, after.id, String(join.length), String(leave.length), recordValue(after, Number(rev) + 1));
    }
    pipeline.subscriberWriteMany(scriptKeys.length, ...scriptKeys, ...args);
  }
  return calls;
}

/** Runs the pipeline; the new rev of each queued write (0 or -1: it lost the compare-and-set), in order. */
export async function execWrites(pipeline: ScriptedPipeline, calls: number): Promise<number[]> {
  const replies = ((await pipeline.exec()) ?? []).slice(0, calls);
  return replies.flatMap(([error, values]) => {
    if (error) throw error;
    return (values as number[]).map(Number);
  });
}
