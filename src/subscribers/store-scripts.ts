/**
 * Lua scripts that change a subscriber and its indexes in one atomic step. Each write is a
 * compare-and-set on the record's `rev`, so the read-modify-write logic lives in TypeScript
 * (readable, testable) while two writers can never overwrite each other's change: the loser
 * gets 0 and re-reads. All keys share one hash tag, so the scripts also run on Redis Cluster.
 */
import type { Redis, ChainableCommander } from 'ioredis';

/**
 * A record is one string `<rev>|<json>`: a hash would hold the same data, but its history
 * field outgrows Redis's compact encoding and then costs about twice the memory.
 *
 * KEYS: 1 record, 2 email index hash, 3 all-subscribers zset, 4 sequence counter,
 *       5..4+nJoin list zsets to join, the rest list zsets to leave.
 * ARGV: 1 expected rev ("0" = create), 2 email key, 3 id, 4 nJoin, 5 record JSON.
 * Returns the new rev, 0 when the rev moved on, -1 when creating an address that exists.
 * Scores come from one counter, so every zset keeps a stable join order for paging.
 */
const WRITE = `
local current = redis.call('GET', KEYS[1])
local rev = current and string.match(current, '^(%d+)|') or '0'
if rev ~= ARGV[1] then return 0 end
if rev == '0' then
  if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 0 then return -1 end
  redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), ARGV[3])
end
local nJoin = tonumber(ARGV[4])
for i = 5, 4 + nJoin do
  if not redis.call('ZSCORE', KEYS[i], ARGV[3]) then
    redis.call('ZADD', KEYS[i], redis.call('INCR', KEYS[4]), ARGV[3])
  end
end
for i = 5 + nJoin, #KEYS do redis.call('ZREM', KEYS[i], ARGV[3]) end
local newRev = tonumber(rev) + 1
redis.call('SET', KEYS[1], newRev .. '|' .. ARGV[5])
return newRev
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
  subscriberWrite(numKeys: number, ...args: (string | number)[]): Promise<number>;
  subscriberRemove(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

export type ScriptedRedis = Redis & ScriptCommands;
export type ScriptedPipeline = ChainableCommander & {
  subscriberWrite(numKeys: number, ...args: (string | number)[]): ChainableCommander;
};

const defined = new WeakSet<Redis>();

/** Registers the scripts on a connection once (ioredis sends EVALSHA, falling back to EVAL). */
export function withScripts(redis: Redis): ScriptedRedis {
  if (!defined.has(redis)) {
    redis.defineCommand('subscriberWrite', { lua: WRITE });
    redis.defineCommand('subscriberRemove', { lua: REMOVE });
    defined.add(redis);
  }
  return redis as ScriptedRedis;
}
