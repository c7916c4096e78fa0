/**
 * The Lua scripts behind domain-pace.ts, each run on Redis's own clock (hosts' clocks may differ).
 * Every key shares the app's hash tag, so they stay in one Redis Cluster slot; READ builds the
 * groups' hash names from a prefix it is given, which a Cluster accepts within one slot.
 */
import type { RedisClient } from '../redis/redis-client.ts';

/** Steps of the slow start: 10, 20, 40, 80 %, then full. */
export const RAMP_STEPS = 4;

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: 1 the group's hash, 2 the groups being paced (zset: group -> when it is back at full pace).
 * ARGV: 1 first pause, 2 longest, 3 ramp step, 4 wait asked (0: none), 5 reason, 6 group.
 * Throttled while paused (messages in flight answering): nothing changes. Returns { opened 1|0, ms left, pauses }.
 */
export const THROTTLED = `${NOW}
local h = redis.call('HMGET', KEYS[1], 'until', 'pauseMs', 'pauses')
local untilMs, last, pauses = tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0
if now < untilMs then return { 0, untilMs - now, pauses } end
local ramp = tonumber(ARGV[3]) * ${RAMP_STEPS}
local pause = tonumber(ARGV[1])
if untilMs > 0 and now < untilMs + ramp and last > 0 then pause = math.min(last * 2, tonumber(ARGV[2])) else pauses = 0 end
if tonumber(ARGV[4]) > 0 then pause = math.min(tonumber(ARGV[4]), tonumber(ARGV[2])) end
pauses = pauses + 1
redis.call('HSET', KEYS[1], 'until', now + pause, 'pauseMs', pause, 'reason', ARGV[5], 'pauses', pauses)
redis.call('PEXPIRE', KEYS[1], pause + ramp + tonumber(ARGV[2]))
redis.call('ZADD', KEYS[2], now + pause + ramp, ARGV[6])
return { 1, pause, pauses }
`;

/**
 * KEYS: 1 the groups being paced; ARGV: 1 the prefix of their hashes. Every group not yet back at
 * full pace: { group, until, now, reason, pauses } flattened.
 */
export const READ = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, group in ipairs(redis.call('ZRANGE', KEYS[1], 0, 999)) do
  local h = redis.call('HMGET', ARGV[1] .. group, 'until', 'reason', 'pauses')
  table.insert(out, group); table.insert(out, tonumber(h[1]) or 0); table.insert(out, now)
  table.insert(out, h[2] or ''); table.insert(out, tonumber(h[3]) or 0)
end
return out
`;

/**
 * KEYS: 1 the group's hash, 2 its rate key, 3 its leases. ARGV: 1 messages per second (0: none),
 * 2 connections (0: none), 3 ramp step, 4 lease id, 5 lease ms, 6 the ramp's base rate.
 * Returns { -1, ms left } while paused, { -2, 0 } while every connection is taken, else
 * { 0, microseconds to wait for the reserved slot }.
 */
export const ADMIT = `${NOW}
local untilMs = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now < untilMs then return { -1, untilMs - now } end
local conns = tonumber(ARGV[2])
if conns > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= conns then return { -2, 0 } end
end
local rate = tonumber(ARGV[1])
local step = tonumber(ARGV[3])
if untilMs > 0 and now < untilMs + step * ${RAMP_STEPS} then
  local base = rate
  if base <= 0 then base = tonumber(ARGV[6]) end
  rate = base * 0.1 * math.pow(2, math.floor((now - untilMs) / step))
end
local wait = 0
if rate > 0 then
  local micros = now * 1000
  local tat = tonumber(redis.call('GET', KEYS[2]) or '0')
  if tat < micros then tat = micros end
  local nextFree = tat + math.floor(1000000 / rate)
  redis.call('SET', KEYS[2], string.format('%.0f', nextFree), 'PX', math.ceil((nextFree - micros) / 1000) + 1000)
  wait = tat - micros
end
if conns > 0 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[5]) + math.floor(wait / 1000), ARGV[4])
  redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[5]) * 2 + math.floor(wait / 1000))
end
return { 0, wait }
`;

/** KEYS: 1 leases; ARGV: 1 lease ms, then lease ids. Pushes their expiry on, on Redis's clock. */
export const RENEW = `${NOW}
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return 0
`;

export type PaceRedis = RedisClient & {
  paceThrottled(
    hash: string,
    groups: string,
    first: number,
    max: number,
    step: number,
    asked: number,
    reason: string,
    group: string,
  ): Promise<[number, number, number]>;
  paceRead(groups: string, hashPrefix: string): Promise<(string | number)[]>;
  paceAdmit(
    hash: string,
    rate: string,
    leases: string,
    perSecond: number,
    conns: number,
    step: number,
    lease: string,
    leaseMs: number,
    base: number,
  ): Promise<[number, number]>;
  paceRenew(leases: string, leaseMs: number, ...ids: string[]): Promise<number>;
};
