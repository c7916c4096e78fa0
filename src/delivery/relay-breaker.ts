/**
 * The circuit breaker for the SMTP relay, for the whole fleet. Adapter: { redis, prefix }.
 *
 * A relay that accepts TCP and never speaks holds each pooled connection for the whole
 * timeout; without a breaker the fleet fails only workers x connections deliveries per
 * timeout, spends every recipient's attempts, and a 10,000-recipient campaign takes days to
 * give up. So: after `threshold` relay failures in a row (classify-failure.ts: no connection,
 * no greeting, timeout, dropped connection, TLS, login, 421), on any worker, the breaker
 * opens: every worker stops starting messages for `pauseMs`, and batches wait without
 * spending attempts. When the pause is over, sending resumes; the first relay failure then
 * opens it again for twice as long (up to `maxPauseMs`), the first success closes it.
 *
 * The state is one hash in Redis, changed by scripts on Redis's own clock (hosts' clocks may
 * differ). Workers read it once a second, not once a message: a success costs a Redis call
 * only when the last read showed failures.
 */
import type { RedisClient } from '../redis/redis-client.ts';

export interface RelayBreakerSettings {
  /** Relay failures in a row that open the breaker. */
  threshold: number;
  /** The first pause; each pause after a failed retry is twice the last. */
  pauseMs: number;
  maxPauseMs: number;
}

export interface RelayState {
  /** closed: sending; open: paused until `pausedForMs` passes; half-open: the pause passed, sending again on trial. */
  state: 'closed' | 'open' | 'half-open';
  /** How much longer the pause lasts (0 unless open), on Redis's clock. */
  pausedForMs: number;
  /** Relay failures in a row so far. */
  failures: number;
  /** The failure that opened the breaker. */
  reason: string;
  /** How often the breaker has opened. */
  pauses: number;
}

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Returns { state, pausedForMs, failures, reason, pauses } as read now. */
const READ = `${NOW}
local h = redis.call('HMGET', KEYS[1], 'state', 'openUntil', 'failures', 'reason', 'pauses')
local state = h[1] or 'closed'
local left = 0
if state == 'open' then
  left = (tonumber(h[2]) or 0) - now
  if left <= 0 then state = 'half-open'; left = 0 end
end
return { state, left, tonumber(h[3]) or 0, h[4] or '', tonumber(h[5]) or 0 }
`;

/**
 * ARGV: 1 threshold, 2 first pause, 3 longest pause, 4 reason. Counts one relay failure;
 * opens the breaker at the threshold, or at once when a pause has just ended (half-open).
 * Failures of messages that were in flight when it opened change nothing. Returns READ's
 * answer, with the state 'opened' when this failure opened it.
 */
const FAILURE = `${NOW}
local h = redis.call('HMGET', KEYS[1], 'state', 'openUntil', 'failures', 'pauseMs')
local state, openUntil = h[1] or 'closed', tonumber(h[2]) or 0
local failures = (tonumber(h[3]) or 0) + 1
if state == 'open' and now < openUntil then
  return { 'open', openUntil - now, failures - 1, '', 0 }
end
if state == 'open' or failures >= tonumber(ARGV[1]) then
  local pause = tonumber(ARGV[2])
  if state == 'open' then pause = math.min((tonumber(h[4]) or pause) * 2, tonumber(ARGV[3])) end
  redis.call('HSET', KEYS[1], 'state', 'open', 'openUntil', now + pause, 'pauseMs', pause, 'failures', failures, 'reason', ARGV[4])
  local pauses = redis.call('HINCRBY', KEYS[1], 'pauses', 1)
  return { 'opened', pause, failures, ARGV[4], pauses }
end
redis.call('HSET', KEYS[1], 'failures', failures)
return { 'closed', 0, failures, '', 0 }
`;

/** A message went through: the relay answers. Returns 1 when this closed an open (or half-open) breaker. */
const SUCCESS = `
local state = redis.call('HGET', KEYS[1], 'state')
redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0, 'openUntil', 0, 'pauseMs', 0)
if state == 'open' then return 1 end
return 0
`;

type Reply = [string, number, number, string, number];
type BreakerRedis = RedisClient & {
  relayRead(key: string): Promise<Reply>;
  relayFailure(key: string, threshold: number, pauseMs: number, maxPauseMs: number, reason: string): Promise<Reply>;
  relaySuccess(key: string): Promise<number>;
};

/** Under the app's prefix, with its hash tag, like every other key (one Redis Cluster slot). */
export function relayBreakerKey(prefix: string): string {
  return `${prefix}:{${prefix}}:relay`;
}

function toState([state, pausedForMs, failures, reason, pauses]: Reply): RelayState {
  return {
    state: state === 'opened' ? 'open' : (state as RelayState['state']),
    pausedForMs: Number(pausedForMs),
    failures: Number(failures),
    reason,
    pauses: Number(pauses),
  };
}

export class RelayBreaker {
  private readonly redis: BreakerRedis;
  private readonly key: string;
  private readonly settings: RelayBreakerSettings;
  /** The last state read, and until when (this host's clock) its pause lasts. */
  private known: RelayState = { state: 'closed', pausedForMs: 0, failures: 0, reason: '', pauses: 0 };
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor({ redis, prefix, settings }: { redis: RedisClient; prefix: string; settings: RelayBreakerSettings }) {
    const scripted = redis as unknown as Partial<BreakerRedis>;
    if (!scripted.relayRead) {
      redis.defineCommand('relayRead', { lua: READ, numberOfKeys: 1 });
      redis.defineCommand('relayFailure', { lua: FAILURE, numberOfKeys: 1 });
      redis.defineCommand('relaySuccess', { lua: SUCCESS, numberOfKeys: 1 });
    }
    this.redis = redis as BreakerRedis;
    this.key = relayBreakerKey(prefix);
    this.settings = settings;
  }

  /** Reads the fleet's state now and then every `everyMs`, so a pause another worker began is seen within that. */
  async watch(everyMs = 1_000): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => void this.read().catch(() => {}), everyMs);
    this.timer.unref();
    await this.read();
  }

  async read(): Promise<RelayState> {
    return this.remember(toState(await this.redis.relayRead(this.key)));
  }

  /** How long, as last seen, until messages may start again; 0 while sending. */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - Date.now());
  }

  /** Counts a relay failure; `opened` is true when this one opened the breaker (the caller says so in the log). */
  async failure(reason: string): Promise<{ opened: boolean; state: RelayState }> {
    const { threshold, pauseMs, maxPauseMs } = this.settings;
    const reply = await this.redis.relayFailure(this.key, threshold, pauseMs, maxPauseMs, reason.slice(0, 300));
    return { opened: reply[0] === 'opened', state: this.remember(toState(reply)) };
  }

  /** A message went through. A Redis call only when the last state seen was not a clean closed one; true when this closed the breaker. */
  async success(): Promise<boolean> {
    if (this.known.state === 'closed' && this.known.failures === 0) return false;
    const closed = (await this.redis.relaySuccess(this.key)) === 1;
    this.remember({ state: 'closed', pausedForMs: 0, failures: 0, reason: '', pauses: this.known.pauses });
    return closed;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private remember(state: RelayState): RelayState {
    this.known = state;
    this.pausedUntil = state.state === 'open' ? Date.now() + state.pausedForMs : 0;
    return state;
  }
}
