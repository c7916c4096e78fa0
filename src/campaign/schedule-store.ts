/**
 * Scheduled starts in Redis, so they outlive every process. Adapter: takes { redis, prefix }.
 *
 * Keys:
 *   P:schedule            zset  campaign id -> the ms time its start is due; kept until the
 *                               campaign is enqueued, so a claimer that dies is replaced
 *   P:c:{c:<id>}:meta     the campaign's hash (campaign-store.ts), with `dueMs` (the due time
 *                         as a number for Lua), `leaseUntil` (ms: the claimer's enqueue) and
 *                         `scheduleClaims` (how many times its start was claimed)
 *
 * The state in the campaign's hash is the truth; the zset only says when to look. Claiming is
 * one script on the hash (scheduled -> enqueuing), so of any number of pollers exactly one
 * starts the campaign. The scripts touch one campaign's keys only (its hash tag): they run on
 * Redis Cluster too.
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { NewsletterError } from '../errors.ts';
import type { CampaignState, IssueSnapshot } from './campaign.ts';
import { campaignKeys } from './campaign-store.ts';

/**
 * KEYS: 1 meta, 2 issue. ARGV: 1 scheduledAt (ISO), 2 due (ms), 3 snapshot JSON ('' keeps
 * it), 4 subject. A draft or scheduled campaign gets the time (and the new rendering); returns
 * the state before, '' when there is no campaign.
 */
const SCHEDULE = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return '' end
if state ~= 'draft' and state ~= 'scheduled' then return state end
redis.call('HSET', KEYS[1], 'state', 'scheduled', 'scheduledAt', ARGV[1], 'dueMs', ARGV[2])
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('HSET', KEYS[1], 'subject', ARGV[4])
end
return state
`;

/** KEYS: 1 meta. A scheduled campaign becomes a draft again; returns the state before. */
const UNSCHEDULE = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return '' end
if state ~= 'scheduled' then return state end
redis.call('HSET', KEYS[1], 'state', 'draft')
redis.call('HDEL', KEYS[1], 'scheduledAt', 'dueMs')
return state
`;

/**
 * KEYS: 1 meta. ARGV: 1 now (ms), 2 lease (ms). A scheduled campaign that is due becomes
 * `enqueuing` under a lease: 'claimed'. One left enqueuing by a claimer whose lease ran out
 * (it died) is taken over: 'reclaimed'. Otherwise the state ('' for none, 'early' when its
 * time moved on).
 */
const CLAIM = `
local m = redis.call('HMGET', KEYS[1], 'state', 'dueMs', 'leaseUntil')
if not m[1] then return '' end
local now = tonumber(ARGV[1])
local lease = tostring(now + tonumber(ARGV[2]))
if m[1] == 'scheduled' then
  if tonumber(m[2] or '0') > now then return 'early' end
  redis.call('HSET', KEYS[1], 'state', 'enqueuing', 'leaseUntil', lease)
  redis.call('HINCRBY', KEYS[1], 'scheduleClaims', 1)
  return 'claimed'
end
if m[1] == 'enqueuing' and m[3] and tonumber(m[3]) < now then
  redis.call('HSET', KEYS[1], 'leaseUntil', lease)
  redis.call('HINCRBY', KEYS[1], 'scheduleClaims', 1)
  return 'reclaimed'
end
return m[1]
`;

export type ClaimResult = 'claimed' | 'reclaimed' | 'early' | '' | CampaignState;

interface ScheduleCommands {
  campaignSchedule(meta: string, issue: string, iso: string, dueMs: number, snapshot: string, subject: string): Promise<string>;
  campaignUnschedule(meta: string): Promise<string>;
  campaignClaimStart(meta: string, now: number, leaseMs: number): Promise<string>;
}

const defined = new WeakSet<RedisClient>();

function withScheduleScripts(redis: RedisClient): RedisClient & ScheduleCommands {
  if (!defined.has(redis)) {
    redis.defineCommand('campaignSchedule', { lua: SCHEDULE, numberOfKeys: 2 });
    redis.defineCommand('campaignUnschedule', { lua: UNSCHEDULE, numberOfKeys: 1 });
    redis.defineCommand('campaignClaimStart', { lua: CLAIM, numberOfKeys: 1 });
    defined.add(redis);
  }
  return redis as RedisClient & ScheduleCommands;
}

function refuse(id: string, before: string, action: string): never {
  if (!before) throw new NewsletterError('CAMPAIGN_NOT_FOUND', `no campaign with id ${id}`, { field: 'campaign' });
  throw new NewsletterError('CAMPAIGN_STATE_INVALID', `campaign ${id} is ${before}: ${action} only before it starts (draft or scheduled)`, {
    field: 'campaign',
  });
}

export class ScheduleStore {
  private readonly redis: RedisClient & ScheduleCommands;
  private readonly prefix: string;

  constructor({ redis, prefix }: { redis: RedisClient; prefix: string }) {
    this.redis = withScheduleScripts(redis);
    this.prefix = prefix;
  }

  private get key(): string {
    return `${this.prefix}:schedule`;
  }

  /**
   * A draft or scheduled campaign starts at `at` (with a new rendering when `snapshot` is
   * given); CAMPAIGN_STATE_INVALID once it has started. The hash first, then the zset: a
   * poller that sees the new due time finds the campaign scheduled.
   */
  async schedule(id: string, at: Date, snapshot?: IssueSnapshot): Promise<void> {
    const { meta, issue } = campaignKeys(this.prefix, id);
    const before = await this.redis.campaignSchedule(
      meta,
      issue,
      at.toISOString(),
      at.getTime(),
      snapshot ? JSON.stringify(snapshot) : '',
      snapshot?.subject ?? '',
    );
    if (before !== 'draft' && before !== 'scheduled') refuse(id, before, 'a campaign can be scheduled');
    await this.redis.zadd(this.key, at.getTime(), id);
  }

  /** A scheduled campaign becomes a draft (a draft stays one); CAMPAIGN_STATE_INVALID once it has started. */
  async unschedule(id: string): Promise<void> {
    const before = await this.redis.campaignUnschedule(campaignKeys(this.prefix, id).meta);
    if (before !== 'scheduled' && before !== 'draft') refuse(id, before, 'a campaign can be unscheduled');
    await this.redis.zrem(this.key, id);
  }

  /** Campaign ids whose start is due at `now`, earliest first. */
  due(now: Date, limit = 20): Promise<string[]> {
    return this.redis.zrangebyscore(this.key, '-inf', now.getTime(), 'LIMIT', 0, limit);
  }

  async claim(id: string, now: Date, leaseMs: number): Promise<ClaimResult> {
    return (await this.redis.campaignClaimStart(campaignKeys(this.prefix, id).meta, now.getTime(), leaseMs)) as ClaimResult;
  }

  /** Nothing more to start for this campaign. */
  async forget(id: string): Promise<void> {
    await this.redis.zrem(this.key, id);
  }

  /** How many times the campaign's start was claimed (1 once it started; more only after a claimer died). */
  async claims(id: string): Promise<number> {
    return Number((await this.redis.hget(campaignKeys(this.prefix, id).meta, 'scheduleClaims')) ?? 0);
  }
}
