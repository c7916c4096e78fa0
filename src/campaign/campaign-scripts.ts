/**
 * Lua scripts that keep a campaign's counters and its ledger in step. Every key of one
 * campaign carries the hash tag `{c:<id>}`, so the scripts also run on Redis Cluster.
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { LEDGER_CODES, OUTCOME_UNKNOWN, type LedgerOutcome } from './delivery-outcome.ts';
import { BOUNCE_RANKS, RETURNED_CODES, RETURNED_KINDS, returnedCounterField } from './returned-mail.ts';

/** Marks a running campaign completed once every recipient is settled. */
const COMPLETE = `
local function complete(meta, now)
  local m = redis.call('HMGET', meta, 'state', 'total', 'accepted', 'failed', 'skipped')
  if m[1] == 'running' and tonumber(m[3] or 0) + tonumber(m[4] or 0) + tonumber(m[5] or 0) >= tonumber(m[2] or 0) then
    redis.call('HSET', meta, 'state', 'completed', 'finishedAt', now)
    return 1
  end
  return 0
end
`;

const FAILED = LEDGER_CODES.failed;
const DEFERRED = LEDGER_CODES.deferred;
const UNKNOWN = `${FAILED}:${OUTCOME_UNKNOWN}`;

/**
 * KEYS: 1 meta, 2 ledger, 3 sending. ARGV: 1 subscriber id, 2 the encoded entry
 * (delivery-outcome.ts), 3 its outcome (also the name of its counter), 4 now (ISO).
 * A settled entry never changes (returns 0); deferred is not settled. The one exception: the
 * worker that sent a message records accepted over an "outcome unknown" failure that another
 * worker wrote while it was still waiting for the reply. Any outcome ends the attempt, so the
 * recipient's "sending" mark goes.
 */
const RECORD = `${COMPLETE}
redis.call('HDEL', KEYS[3], ARGV[1])
local prev = redis.call('HGET', KEYS[2], ARGV[1])
if prev and ARGV[3] == 'accepted' and string.sub(prev, 1, ${UNKNOWN.length}) == '${UNKNOWN}' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'failed', -1)
  redis.call('HINCRBY', KEYS[1], 'accepted', 1)
  return 1
end
local wasDeferred = prev and string.sub(prev, 1, 1) == '${DEFERRED}'
if prev and not wasDeferred then return 0 end
if ARGV[3] == 'deferred' then
  if not prev then
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
    redis.call('HINCRBY', KEYS[1], 'deferred', 1)
  end
  return 1
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if wasDeferred then redis.call('HINCRBY', KEYS[1], 'deferred', -1) end
redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
complete(KEYS[1], ARGV[4])
return 1
`;

/**
 * KEYS: 1 meta, 2 pending page. ARGV: 1 field holding the next batch index, 2 first index,
 * 3 add to total (1/0), 4 the list position the batches reach ('' for none), 5.. recipients
 * in each batch. Counts batches first..first+n-1 exactly once, moves the enqueue position
 * with them, and forgets the pending page they came from: returns how many were new.
 */
const ADD_BATCHES = `
local next = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local first = tonumber(ARGV[2])
local added = 0
for i = 5, #ARGV do
  local index = first + i - 5
  if index == next then
    next = next + 1
    added = added + 1
    if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'total', tonumber(ARGV[i])) end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], next)
if added > 0 and ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'enqueuedUpTo', ARGV[4]) end
redis.call('DEL', KEYS[2])
return added
`;

/**
 * KEYS: 1 meta. ARGV: 1 new state, 2 now, 3 time field to set ('' for none), 4.. allowed from-states.
 * Returns the state before; the caller compares it with the allowed ones.
 */
const TRANSITION = `${COMPLETE}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return '' end
for i = 4, #ARGV do
  if state == ARGV[i] then
    redis.call('HSET', KEYS[1], 'state', ARGV[1])
    if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], ARGV[3], ARGV[2]) end
    if ARGV[1] == 'running' then complete(KEYS[1], ARGV[2]) end
    return state
  end
end
return state
`;

/** KEYS: 1 meta, 2 ledger. ARGV: subscriber ids. Forgets failed entries so a resend round can try them again. */
const RESET_FAILED = `
local n = 0
for i = 1, #ARGV do
  local v = redis.call('HGET', KEYS[2], ARGV[i])
  if v and string.sub(v, 1, 1) == '${FAILED}' then
    redis.call('HDEL', KEYS[2], ARGV[i])
    n = n + 1
  end
end
if n > 0 then redis.call('HINCRBY', KEYS[1], 'failed', -n) end
return n
`;

/** KEYS: 1 meta, 2 issue. ARGV: 1 issue JSON, 2.. field/value pairs. Creates both or nothing; 0 when it exists. */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], ARGV[1])
return 1
`;

/**
 * KEYS: 1 meta, 2 ledger, 3 sending. ARGV: 1 subscriber id. Returns { ledger entry or false,
 * campaign state or false, "sending" mark or false } in one round trip.
 */
const PRECHECK = `
return { redis.call('HGET', KEYS[2], ARGV[1]), redis.call('HGET', KEYS[1], 'state'), redis.call('HGET', KEYS[3], ARGV[1]) }
`;

/**
 * KEYS: 1 ledger, 2 sending. ARGV: 1 subscriber id, 2 the attempt's mark (its time, then a
 * token of its own). Right before the end of a message: marks the recipient "sending" only when
 * nobody settled them and nobody else's mark is there, in one step, so two workers holding the
 * same batch (one stalled past its lock, the other given the batch since) never both send the
 * end. Returns 'ok', 'settled' or 'marked'. The same mark again is 'ok': the client sends a
 * script again when its connection closed before the reply (ioredis after a reconnect, a
 * Cluster after a failover), and a mark that ran, reached the replica and lost its reply with
 * the dying primary must not read as another attempt's, or this one would record "outcome
 * unknown" for a message nobody sent.
 */
const MARK_SENDING = `
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry and string.sub(entry, 1, 1) ~= '${DEFERRED}' then return 'settled' end
local mark = redis.call('HGET', KEYS[2], ARGV[1])
if mark == ARGV[2] then return 'ok' end
if mark then return 'marked' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 'ok'
`;

/**
 * KEYS: 1 sending. ARGV: 1 subscriber id, 2 the attempt's mark as set. Takes back a mark whose
 * message was never ended (Redis failed before the mark was confirmed, or right before the end):
 * only this attempt's own mark, never one another attempt set since. Returns 1 when removed.
 */
const UNMARK = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
`;

const luaTable = (entries: [string, string | number][]) => `{ ${entries.map(([key, value]) => `${key} = ${JSON.stringify(value)}`).join(', ')} }`;

/**
 * KEYS: 1 meta, 2 returned-mail hash. ARGV: 1 field (returned-mail.ts's returnedField), 2 the
 * encoded entry. What came back about one recipient, counted once: a field that exists already
 * changes nothing, except that a worse bounce replaces a milder one and moves the count. Returns
 * 1 when it counted, 0 when it changed nothing (or the campaign does not exist).
 */
const RECORD_RETURNED = `
local COUNTER = ${luaTable(RETURNED_KINDS.map((kind) => [RETURNED_CODES[kind], returnedCounterField(kind)]))}
local RANK = ${luaTable(BOUNCE_RANKS.map((kind, i) => [RETURNED_CODES[kind], i + 1]))}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local code = string.sub(ARGV[2], 1, 1)
if not COUNTER[code] then return redis.error_reply('unknown returned-mail kind') end
local prev = redis.call('HGET', KEYS[2], ARGV[1])
if prev then
  local was = string.sub(prev, 1, 1)
  if not (RANK[code] and RANK[was] and RANK[code] > RANK[was]) then return 0 end
  redis.call('HINCRBY', KEYS[1], COUNTER[was], -1)
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], COUNTER[code], 1)
return 1
`;

interface CampaignScriptCommands {
  campaignRecordReturned(meta: string, returned: string, field: string, entry: string): Promise<number>;
  campaignMarkSending(ledger: string, sending: string, id: string, mark: string): Promise<'ok' | 'settled' | 'marked'>;
  campaignUnmark(sending: string, id: string, mark: string): Promise<number>;
  campaignPrecheck(meta: string, ledger: string, sending: string, id: string): Promise<[string | null, string | null, string | null]>;
  campaignCreate(meta: string, issue: string, snapshot: string, ...fields: string[]): Promise<number>;
  campaignRecord(meta: string, ledger: string, sending: string, id: string, entry: string, outcome: LedgerOutcome, now: string): Promise<number>;
  campaignAddBatches(meta: string, pending: string, field: string, first: number, addToTotal: 0 | 1, position: string, ...counts: number[]): Promise<number>;
  campaignTransition(meta: string, to: string, now: string, timeField: string, ...from: string[]): Promise<string>;
  campaignResetFailed(meta: string, ledger: string, ...ids: string[]): Promise<number>;
}

export type CampaignRedis = RedisClient & CampaignScriptCommands;

const defined = new WeakSet<RedisClient>();

export function withCampaignScripts(redis: RedisClient): CampaignRedis {
  if (!defined.has(redis)) {
    redis.defineCommand('campaignCreate', { lua: CREATE, numberOfKeys: 2 });
    redis.defineCommand('campaignPrecheck', { lua: PRECHECK, numberOfKeys: 3 });
    redis.defineCommand('campaignMarkSending', { lua: MARK_SENDING, numberOfKeys: 2 });
    redis.defineCommand('campaignUnmark', { lua: UNMARK, numberOfKeys: 1 });
    redis.defineCommand('campaignRecord', { lua: RECORD, numberOfKeys: 3 });
    redis.defineCommand('campaignAddBatches', { lua: ADD_BATCHES, numberOfKeys: 2 });
    redis.defineCommand('campaignTransition', { lua: TRANSITION, numberOfKeys: 1 });
    redis.defineCommand('campaignResetFailed', { lua: RESET_FAILED, numberOfKeys: 2 });
    redis.defineCommand('campaignRecordReturned', { lua: RECORD_RETURNED, numberOfKeys: 2 });
    defined.add(redis);
  }
  return redis as CampaignRedis;
}
