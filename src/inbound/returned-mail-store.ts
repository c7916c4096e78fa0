/**
 * What the inbound side keeps of returned mail itself (its effects live with the subscribers
 * and the campaigns). Adapter: takes { redis, prefix }.
 *
 * - Unmatched mail, for the operator: a summary of each of the newest UNMATCHED_KEPT messages,
 *   and the first RAW_BYTES_KEPT bytes of the newest RAW_KEPT. Both lists are capped, so a flood
 *   of hostile mail costs at most about RAW_KEPT x RAW_BYTES_KEPT of Redis (6.4 MB).
 * - Which messages were counted: the newest COUNTED_KEPT, by content hash, so a message
 *   processed twice (a job run again after a crash, the same bounce read over SMTP and from the
 *   mailbox) is counted in metrics once. Its effects are idempotent on their own.
 *
 * Keys, under the app's hash tag (one Cluster slot, as the script needs):
 *   P:{P}:inbound:unmatched      list  JSON summaries (UnmatchedMail), newest first
 *   P:{P}:inbound:unmatched-raw  list  `<id>\n<the message's first bytes, latin1>`, newest first
 *   P:{P}:inbound:counted        zset  message id (hash) -> ms time it was processed
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { createHash } from 'node:crypto';
import type { UnmatchedReason } from '../metrics/definitions.ts';
import type { InboundKind } from './classify-inbound-message.ts';

export const UNMATCHED_KEPT = 1_000;
export const RAW_KEPT = 100;
export const RAW_BYTES_KEPT = 64 * 1024;
export const COUNTED_KEPT = 10_000;

/** What an operator needs to look into a message that matched nobody. */
export interface UnmatchedMail {
  /** The message's hash (returnedMailId). */
  id: string;
  /** ISO 8601. */
  receivedAt: string;
  via: 'smtp' | 'imap';
  kind: InboundKind;
  reason: UnmatchedReason;
  /** One line for people: what was looked for and not found. */
  detail: string;
  mailFrom: string;
  rcptTo: string[];
  from: string | null;
  subject: string;
  /** The returned copy's Message-ID, if it has one. */
  messageId: string | null;
  /** Whom the report names (at most 20). */
  recipients: { address: string; kind: InboundKind; status: string | null }[];
  /** The whole message's size in bytes. */
  size: number;
}

/** The identity of a message's content: the same bytes received twice are one message. */
export function returnedMailId(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

/**
 * KEYS: 1 counted zset, 2 unmatched list, 3 unmatched-raw list. ARGV: 1 message id, 2 now (ms),
 * 3 COUNTED_KEPT, 4 the summary ('' for a matched message), 5 the raw entry, 6 UNMATCHED_KEPT,
 * 7 RAW_KEPT. Returns 1 the first time a message id comes, 0 after.
 */
const RECORD = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
if ARGV[4] ~= '' then
  redis.call('LPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
  redis.call('LPUSH', KEYS[3], ARGV[5])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[7]) - 1)
end
return 1
`;

type StoreRedis = RedisClient & { returnedMailRecord(counted: string, unmatched: string, raw: string, ...args: (string | number)[]): Promise<number> };

const defined = new WeakSet<RedisClient>();

export function returnedMailKeys(prefix: string) {
  const base = `${prefix}:{${prefix}}:inbound`;
  return { unmatched: `${base}:unmatched`, unmatchedRaw: `${base}:unmatched-raw`, counted: `${base}:counted` };
}

export class ReturnedMailStore {
  private readonly redis: StoreRedis;
  private readonly keys: ReturnType<typeof returnedMailKeys>;

  constructor({ redis, prefix }: { redis: RedisClient; prefix: string }) {
    if (!defined.has(redis)) {
      redis.defineCommand('returnedMailRecord', { lua: RECORD, numberOfKeys: 3 });
      defined.add(redis);
    }
    this.redis = redis as StoreRedis;
    this.keys = returnedMailKeys(prefix);
  }

  /** True the first time: the message's counts go to metrics now. */
  async markCounted(id: string, now: Date): Promise<boolean> {
    return (await this.record(id, now, '', '')) === 1;
  }

  /** Keeps an unmatched message for the operator (and marks it counted); false when it was kept already. */
  async keepUnmatched(mail: UnmatchedMail, raw: Uint8Array, now: Date): Promise<boolean> {
    const first = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, RAW_BYTES_KEPT)).toString('latin1');
    return (await this.record(mail.id, now, JSON.stringify(mail), `${mail.id}\n${first}`)) === 1;
  }

  /** The newest unmatched messages, newest first, each with its first bytes while those are kept. */
  async recentUnmatched(limit = 100): Promise<(UnmatchedMail & { raw?: Buffer })[]> {
    const [summaries, raws] = await Promise.all([
      this.redis.lrange(this.keys.unmatched, 0, limit - 1),
      this.redis.lrange(this.keys.unmatchedRaw, 0, RAW_KEPT - 1),
    ]);
    const rawById = new Map(raws.map((entry) => [entry.slice(0, entry.indexOf('\n')), entry.slice(entry.indexOf('\n') + 1)]));
    return summaries.map((text) => {
      const mail = JSON.parse(text) as UnmatchedMail;
      const raw = rawById.get(mail.id);
      return raw === undefined ? mail : { ...mail, raw: Buffer.from(raw, 'latin1') };
    });
  }

  private record(id: string, now: Date, summary: string, raw: string): Promise<number> {
    const { counted, unmatched, unmatchedRaw } = this.keys;
    return this.redis.returnedMailRecord(counted, unmatched, unmatchedRaw, id, now.getTime(), COUNTED_KEPT, summary, raw, UNMATCHED_KEPT, RAW_KEPT);
  }
}
