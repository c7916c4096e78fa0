/**
 * Redis keeps what a send cannot lose (the ledger, the queue, suppressions): it must keep it on
 * disk, never evict it, and have room for the lists it holds. PURE.
 *
 * Room: a subscriber takes about 250 bytes (bench:scale measures ~200 for a million; a small store's
 * email index pays more per subscriber, and one still in the layout before 0.2 ~850),
 * and a campaign about 100 bytes per recipient while queued and recorded (queue entry and ledger).
 * The limit is maxmemory, or, when that is 0 (no limit), the machine's memory, where running out
 * gets Redis killed instead of refusing writes. Under 20 % free warns; less than the largest
 * list's campaign needs, or nothing free at all, fails.
 */
import { verdict, type CheckResult } from './check.ts';

export const BYTES_PER_SUBSCRIBER = 250;
export const BYTES_PER_RECIPIENT = 100;
const HEADROOM = 0.2;

export interface RedisFacts {
  readonly maxmemoryPolicy: string | undefined;
  readonly aof: boolean | undefined;
  readonly rdb: boolean | undefined;
  readonly usedMemory: number | undefined;
  /** 0: no limit. */
  readonly maxmemory: number | undefined;
  /** INFO's total_system_memory (0 or undefined where Redis cannot tell). */
  readonly systemMemory: number | undefined;
  readonly subscribers: number;
  readonly largestList: { readonly name: string; readonly size: number } | undefined;
}

export function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

export function checkRedis(facts: RedisFacts | { readonly error: string }): CheckResult[] {
  const persistence = verdict('redis.persistence', 'redis');
  const eviction = verdict('redis.eviction', 'redis');
  const memory = verdict('redis.memory', 'redis');
  if ('error' in facts) {
    const connect = verdict('redis.connect', 'redis');
    const why = 'Redis did not answer';
    return [
      connect.fail(`cannot use Redis: ${facts.error}`, 'check REDIS_URL and that Redis is running (docs/operators-guide.md, "What runs")'),
      persistence.skip(why),
      eviction.skip(why),
      memory.skip(why),
    ];
  }
  return [checkPersistence(facts, persistence), checkEviction(facts, eviction), checkMemory(facts, memory)];
}

function checkPersistence(facts: RedisFacts, v: ReturnType<typeof verdict>): CheckResult {
  if (facts.aof) return v.pass(`Redis keeps an append-only file${facts.rdb ? ' and RDB snapshots' : ''}`);
  if (facts.rdb) return v.pass('Redis keeps RDB snapshots (a crash loses the writes since the last one; appendonly yes loses at most a second)');
  const fix = 'redis-cli CONFIG SET appendonly yes, and appendonly yes in redis.conf (docker compose sets it)';
  if (facts.aof === undefined || facts.rdb === undefined)
    return v.warn('cannot tell whether Redis keeps anything on disk (CONFIG GET is refused)', `make sure AOF or RDB is on: ${fix}`);
  return v.fail('Redis keeps nothing on disk: a restart loses every subscriber, every ledger (messages would be sent twice) and the queue', fix);
}

function checkEviction(facts: RedisFacts, v: ReturnType<typeof verdict>): CheckResult {
  const fix = 'redis-cli CONFIG SET maxmemory-policy noeviction, and the same in redis.conf';
  if (facts.maxmemoryPolicy === undefined) return v.warn("cannot read Redis's maxmemory-policy", `make sure it is noeviction: ${fix}`);
  if (facts.maxmemoryPolicy !== 'noeviction') {
    return v.fail(
      `maxmemory-policy is ${facts.maxmemoryPolicy}: under memory pressure Redis would delete subscribers, ledgers and queued batches; every newsletter process refuses to start`,
      fix,
    );
  }
  return v.pass('maxmemory-policy is noeviction: a full Redis refuses writes instead of losing data');
}

function checkMemory(facts: RedisFacts, v: ReturnType<typeof verdict>): CheckResult {
  const used = facts.usedMemory;
  if (used === undefined || facts.maxmemory === undefined)
    return v.warn("cannot read Redis's memory figures (INFO memory)", 'make sure maxmemory leaves room for your lists');
  const limited = facts.maxmemory > 0;
  const limit = limited ? facts.maxmemory : facts.systemMemory;
  const lists = facts.largestList ? `, the largest list ${facts.largestList.name} has ${facts.largestList.size}` : '';
  const held = `${facts.subscribers} subscriber(s) (about ${size(facts.subscribers * BYTES_PER_SUBSCRIBER)} at ~${BYTES_PER_SUBSCRIBER} bytes each)${lists}`;
  const fixLimit = 'give Redis more memory (maxmemory in redis.conf, or a larger machine)';
  if (!limit)
    return v.warn(
      `maxmemory is 0 (no limit) and Redis does not say how much memory the machine has; ${size(used)} used for ${held}`,
      "set maxmemory to about 80 % of the machine's memory, so a full Redis refuses writes instead of being killed",
    );
  const free = limit - used;
  const campaign = (facts.largestList?.size ?? 0) * BYTES_PER_RECIPIENT;
  const figures = `${size(used)} used of ${size(limit)}${limited ? ' (maxmemory)' : " (the machine's memory; maxmemory is 0)"}, ${held}`;
  if (free <= 0) return v.fail(`Redis is full: ${figures}; it refuses writes, so nothing can be sent or unsubscribed`, fixLimit);
  if (free < campaign)
    return v.fail(`Redis has ${size(free)} free, less than a campaign to the largest list needs (about ${size(campaign)}): ${figures}`, fixLimit);
  const room = `room for about ${Math.floor(free / BYTES_PER_SUBSCRIBER)} more subscribers`;
  if (free < limit * HEADROOM) return v.warn(`under ${HEADROOM * 100} % of Redis's memory is free: ${figures}; ${room}`, fixLimit);
  if (!limited)
    return v.warn(
      `maxmemory is 0 (no limit): ${figures}; ${room}. Out of memory, Redis is killed instead of refusing writes`,
      "set maxmemory to about 80 % of the machine's memory",
    );
  return v.pass(`${figures}; ${room}`);
}
