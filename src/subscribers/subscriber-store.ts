/**
 * Subscribers in Redis. Adapter: takes { redis, prefix }, owns no connection. The keys are
 * laid out in subscriber-keys.ts; every write is a compare-and-set (store-scripts.ts).
 */
import type { RedisClient, ReplicaAck } from '../redis/redis-client.ts';
import { primariesOf } from '../redis/redis-connection.ts';
import { NewsletterError } from '../errors.ts';
import { emailKey, normalizeEmail } from './email-address.ts';
import { execWrites, queueWrites, withScripts, type ScriptedPipeline, type ScriptedRedis, type Write } from './store-scripts.ts';
import { SoftBounceStore } from './soft-bounces.ts';
import { newSubscriberId } from './subscriber-id.ts';
import { subscriberKeys, type SubscriberKeys } from './subscriber-keys.ts';
import { parseRecord } from './subscriber-record.ts';
import { canReceive, parseListName, parseStatus, type Subscriber, type SubscriberStatus } from './subscriber.ts';
import { HISTORY_LIMIT, createSubscriber, mergeSubscriber, normalizeInput, type NormalizedInput, type SubscriberInput } from './subscriber-merge.ts';

export { normalizeInput, type NormalizedInput, type SubscriberInput };

export interface AddResult {
  subscriber: Subscriber;
  created: boolean;
  /** True when an existing subscriber changed (name, lists or attributes). */
  updated: boolean;
}

export interface AddOptions {
  /**
   * Write every row as a new subscriber without reading anything first (one round trip
   * instead of two, for an import of new addresses); a row whose address exists comes back
   * from Redis unwritten and is then read and merged as usual. This first write is queued on
   * the connection before addNormalized returns.
   */
  createFirst?: boolean;
  /**
   * Read and merge only once this has settled (and not at all if it rejects): an import passes
   * the batch before, so that rows reach their subscribers in file order. The createFirst
   * write does not wait for it. It creates only addresses that do not exist when it runs, so
   * it is safe when the batch before was createFirst too (its creates are queued ahead of it
   * on the connection); otherwise wait for that batch before calling.
   */
  after?: Promise<unknown>;
}

export interface StatusResult {
  subscriber: Subscriber;
  changed: boolean;
}

export interface SubscriberStoreDeps {
  redis: RedisClient;
  prefix: string;
  now?: () => Date;
  newId?: () => string;
  /** Status changes wait for a replica (unset: they do not). */
  replicaWait?: ReplicaAck;
}

const MAX_ATTEMPTS = 50;

/** After a lost compare-and-set: a short random pause so racing writers stop moving in lockstep. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));

type Stored = { subscriber: Subscriber; rev: string };

/** Some members of a list, and the position (score) of the last of them. */
export interface ListPage {
  ids: string[];
  upTo: number;
}

export class SubscriberStore {
  /** Which campaigns each subscriber soft-bounced from (the inbound side counts them). */
  readonly softBounces: SoftBounceStore;
  private readonly redis: ScriptedRedis;
  private readonly keys: SubscriberKeys;
  private readonly now: () => Date;
  private readonly newId: () => string;

  private readonly replicaWait: ReplicaAck | undefined;

  constructor({ redis, prefix, now = () => new Date(), newId = newSubscriberId, replicaWait }: SubscriberStoreDeps) {
    this.redis = withScripts(redis);
    this.replicaWait = replicaWait;
    this.keys = subscriberKeys(prefix);
    this.softBounces = new SoftBounceStore({ redis, prefix });
    this.now = now;
    this.newId = newId;
  }

  /** The connection belongs to the composition root; nothing to release here. */
  async close(): Promise<void> {}

  /** Every attribute name ever imported (export's columns), sorted. */
  async attributeNames(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.attributeNames)).sort();
  }

  async get(id: string): Promise<Subscriber | undefined> {
    return (await this.read(id))?.subscriber;
  }

  async getByEmail(email: string): Promise<Subscriber | undefined> {
    const id = await this.redis.hget(this.keys.emailIndex, emailKey(normalizeEmail(email)));
    return id ? this.get(id) : undefined;
  }

  /** Subscribers for a batch of ids in one round trip, in the same order; removed ids are left out. */
  async getMany(ids: readonly string[]): Promise<Subscriber[]> {
    return (await this.readMany(ids)).filter((s): s is Stored => s !== undefined).map((s) => s.subscriber);
  }

  /**
   * True at most once per window for a subscriber: caps confirmation emails per address, so
   * the subscribe form cannot be used to flood someone's mailbox from many client addresses.
   */
  async claimConfirmationEmail(id: string, windowSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.keys.confirmSent(id), '1', 'EX', windowSeconds, 'NX')) === 'OK';
  }

  /** Only `active` subscribers receive; checked right before each send. */
  async canReceive(id: string): Promise<boolean> {
    return canReceive(await this.get(id));
  }

  async add(input: SubscriberInput): Promise<AddResult> {
    const [result] = await this.addMany([input]);
    return result!;
  }

  /**
   * Creates or merges many subscribers: one round trip to read, one to write. Inputs are
   * validated first (throws on the first bad one, nothing written). Repeats in a batch merge.
   */
  async addMany(inputs: readonly SubscriberInput[]): Promise<AddResult[]> {
    return this.addNormalized(inputs.map((input) => normalizeInput(input)));
  }

  /** addMany for inputs already validated by normalizeInput (an import checks each row itself, to report it by line). */
  async addNormalized(inputs: readonly NormalizedInput[], { createFirst = false, after }: AddOptions = {}): Promise<AddResult[]> {
    const results = new Array<AddResult>(inputs.length);
    let pending = inputs.map((input, index) => ({ input, index }));
    if (createFirst) pending = await this.tryAddMany(pending, results, false);
    await after;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new Error('subscriber store: too many concurrent changes to the same addresses');
      if (attempt > 0) await backoff(attempt);
      pending = await this.tryAddMany(pending, results);
    }
    return results;
  }

  /** One attempt: read (unless told not to), merge, compare-and-set; returns the rows to try again. */
  private async tryAddMany(batch: { input: NormalizedInput; index: number }[], results: AddResult[], read = true): Promise<typeof batch> {
    const keys = [...new Set(batch.map(({ input }) => emailKey(input.email)))];
    // Without reading, nothing is awaited before the write is queued on the connection: a
    // createFirst write is on its way before addNormalized returns (see AddOptions).
    const ids = read && keys.length ? await this.redis.hmget(this.keys.emailIndex, ...keys) : [];
    const existing = read ? await this.readMany(ids.map((id) => id ?? '')) : [];
    const state = new Map<string, Stored | undefined>(keys.map((key, i) => [key, existing[i]]));
    const at = this.now().toISOString();
    const writes: Write[] = [];
    for (const { input, index } of batch) {
      const key = emailKey(input.email);
      const before = state.get(key);
      const after = before ? mergeSubscriber(before.subscriber, input, at) : createSubscriber(this.newId(), input, at);
      const created = !before;
      const updated = !!before && after !== before.subscriber;
      results[index] = { subscriber: after, created, updated };
      if (!created && !updated) continue;
      const rev = before?.rev ?? '0';
      writes.push({ after, rev, emailKey: key, listsBefore: before?.subscriber.lists ?? [] });
      state.set(key, { subscriber: after, rev: String(Number(rev) + 1) });
    }
    if (writes.length === 0) return [];
    const pipeline = this.redis.pipeline() as ScriptedPipeline;
    const calls = queueWrites(pipeline, this.keys, writes);
    const names = new Set(batch.flatMap(({ input }) => Object.keys(input.attributes ?? {})));
    // A hint for export's columns; written after the records, so it may only over-report.
    if (names.size) pipeline.sadd(this.keys.attributeNames, ...names);
    const failedKeys = new Set<string>();
    (await execWrites(pipeline, calls)).forEach((value, i) => {
      if (value <= 0) failedKeys.add(writes[i]!.emailKey);
    });
    return batch.filter(({ input }) => failedKeys.has(emailKey(input.email)));
  }

  /** Sets a status and records why (setStatus(id, 'active') is the way out of suppression); a no-op (changed: false) when it already has it. */
  async setStatus(id: string, status: SubscriberStatus, reason: string): Promise<StatusResult> {
    parseStatus(status);
    return this.transition(id, status, reason, () => true);
  }

  /** Effective at once: the next canReceive() answers false. Idempotent. */
  unsubscribe(id: string, reason: string): Promise<StatusResult> {
    return this.transition(id, 'unsubscribed', reason, () => true);
  }

  markBounced(id: string, reason: string): Promise<StatusResult> {
    return this.transition(id, 'bounced', reason, () => true);
  }

  /**
   * What came back by mail (a late bounce, a complaint) suppresses an address that could still
   * be mailed (active, or pending its confirmation); one already suppressed keeps its status,
   * and its history says why it was suppressed first.
   */
  suppress(id: string, status: 'bounced' | 'complained', reason: string): Promise<StatusResult> {
    return this.transition(id, status, reason, (from) => from === 'active' || from === 'pending');
  }

  /** Double opt-in: only a `pending` subscriber becomes active; an old link never undoes an unsubscribe. */
  confirm(id: string, reason = 'confirmed by email link'): Promise<StatusResult> {
    return this.transition(id, 'active', reason, (from) => from === 'pending');
  }

  private async transition(id: string, status: SubscriberStatus, reason: string, allowedFrom: (from: SubscriberStatus) => boolean): Promise<StatusResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.read(id);
      if (!stored) throw new NewsletterError('SUBSCRIBER_NOT_FOUND', `no subscriber with id ${id}`);
      const { subscriber, rev } = stored;
      if (subscriber.status === status || !allowedFrom(subscriber.status)) {
        // Already so: maybe by an earlier try of this change whose replica wait failed; confirm it now.
        if (subscriber.status === status) await this.replicaWait?.after(this.keys.record(id));
        return { subscriber, changed: false };
      }
      const at = this.now().toISOString();
      const history = [...subscriber.history, { status, reason, at }].slice(-HISTORY_LIMIT);
      const after: Subscriber = { ...subscriber, status, history, updatedAt: at };
      const pipeline = this.redis.pipeline() as ScriptedPipeline;
      const calls = queueWrites(pipeline, this.keys, [{ after, rev, emailKey: emailKey(after.email), listsBefore: after.lists }]);
      const [value = 0] = await execWrites(pipeline, calls);
      if (value > 0) {
        // An unsubscribe or a bounce is a promise to the recipient: it must outlive a failover.
        await this.replicaWait?.after(this.keys.record(id));
        return { subscriber: after, changed: true };
      }
      await backoff(attempt);
    }
    throw new Error(`subscriber store: too many concurrent changes to ${id}`);
  }

  /** Deletes the subscriber and its memberships. Returns false when there was none. */
  async remove(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.read(id);
      if (!stored) return false;
      const { subscriber, rev } = stored;
      const keys = [this.keys.record(id), this.keys.emailIndex, this.keys.all, ...subscriber.lists.map((l) => this.keys.list(l))];
      if ((await this.redis.subscriberRemove(keys.length, ...keys, rev, emailKey(subscriber.email), id)) === 1) {
        await this.softBounces.clear(id);
        return true;
      }
    }
    throw new Error(`subscriber store: too many concurrent changes to ${id}`);
  }

  /** Members of a list (every subscriber when list is undefined), whatever their status. */
  async countList(list?: string): Promise<number> {
    return this.redis.zcard(list === undefined ? this.keys.all : this.keys.list(parseListName(list)));
  }

  /** Every list that has ever had a member (a list is its zset; an empty one is gone), sorted. */
  async listNames(): Promise<string[]> {
    const marker = this.keys.list('');
    const names = new Set<string>();
    // SCAN sees one node's keys: on a Cluster, walk every master.
    for (const node of primariesOf(this.redis)) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `${marker.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of found) names.add(key.slice(marker.length));
      } while (cursor !== '0');
    }
    return [...names].sort();
  }

  /**
   * One page of ids in join order, after the cursor `after` (0 to start). The cursor is a
   * score, not an index, so members joining or leaving meanwhile never shift a page.
   */
  async listPage(list: string | undefined, after: number, limit: number): Promise<{ ids: string[]; next: number | undefined; last: number | undefined }> {
    const key = list === undefined ? this.keys.all : this.keys.list(parseListName(list));
    const reply = await this.redis.zrangebyscore(key, `(${after}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit);
    const ids: string[] = [];
    for (let i = 0; i < reply.length; i += 2) ids.push(reply[i]!);
    const last = reply.length ? Number(reply[reply.length - 1]) : undefined;
    return { ids, next: ids.length === limit ? last : undefined, last };
  }

  /**
   * Pages of ids of a list in join order, from after a position (exclusive), each with the
   * position of its last member; streams, so a million members never sit in memory. A
   * member's position never changes, so iteration can resume from one whatever changed before it.
   */
  async *listPages(list: string | undefined, { after = 0, size = 1000 }: { after?: number; size?: number } = {}): AsyncGenerator<ListPage> {
    for (;;) {
      const page = await this.listPage(list, after, size);
      if (page.ids.length) yield { ids: page.ids, upTo: page.last! };
      if (page.next === undefined) return;
      after = page.next;
    }
  }

  /** Batches of ids of a list in a stable order. */
  async *iterateListIds(list: string | undefined, batchSize = 1000): AsyncGenerator<string[]> {
    for await (const page of this.listPages(list, { size: batchSize })) yield page.ids;
  }

  /** Batches of subscribers of a list (every subscriber when undefined). */
  async *iterateSubscribers(list: string | undefined, batchSize = 1000): AsyncGenerator<Subscriber[]> {
    for await (const ids of this.iterateListIds(list, batchSize)) {
      const batch = await this.getMany(ids);
      if (batch.length) yield batch;
    }
  }

  private async read(id: string): Promise<Stored | undefined> {
    return id ? parseRecord(await this.redis.get(this.keys.record(id))) : undefined;
  }

  /**
   * One MGET: every record shares the hash tag, so this works on Redis Cluster too. Empty ids
   * (addresses not in the index) are not asked for: a first import skips the round trip.
   */
  private async readMany(ids: readonly string[]): Promise<(Stored | undefined)[]> {
    const present = ids.filter((id) => id);
    if (present.length === 0) return ids.map(() => undefined);
    const values = await this.redis.mget(present.map((id) => this.keys.record(id)));
    let next = 0;
    return ids.map((id) => (id ? parseRecord(values[next++]) : undefined));
  }
}
