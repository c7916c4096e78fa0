/**
 * Subscribers in Redis. Adapter: takes { redis, prefix }, owns no connection. The keys are
 * laid out in subscriber-keys.ts; every write is a compare-and-set (store-scripts.ts). A store
 * still holding subscribers in layout 1 is read in both layouts, and a subscriber changed
 * there is first moved (subscriber-migration.ts).
 */
import type { RedisClient, ReplicaAck } from '../redis/redis-client.ts';
import { NewsletterError } from '../errors.ts';
import { emailKey, normalizeEmail } from './email-address.ts';
import { readMemberPage } from './member-pages.ts';
import { RecordReader, type Stored } from './record-reader.ts';
import { execWrites, queueWrites, removeArgs, withScripts, type ScriptedPipeline, type ScriptedRedis, type Write } from './store-scripts.ts';
import { SoftBounceStore } from './soft-bounces.ts';
import { idOfNumber } from './subscriber-id.ts';
import { ALL_COUNT, legacyKeys, subscriberKeys, type LegacyKeys, type SubscriberKeys } from './subscriber-keys.ts';
import { hasLegacySubscribers, migrateSubscriberLayout, moveSubscribers, type MigrationReport } from './subscriber-migration.ts';
import { canReceive, parseListName, parseStatus, type Subscriber, type SubscriberStatus } from './subscriber.ts';
import { HISTORY_LIMIT, createSubscriber, mergeSubscriber, normalizeInput, type NormalizedInput, type SubscriberInput } from './subscriber-merge.ts';
import { globLiteral, scanKeys } from '../redis/scan-keys.ts';

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
  /** Status changes wait for a replica (unset: they do not). */
  replicaWait?: ReplicaAck;
}

const MAX_ATTEMPTS = 50;

/** After a lost compare-and-set: a short random pause so racing writers stop moving in lockstep. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));

/** Some members of a list, and the position of the last of them. */
export interface ListPage {
  ids: string[];
  upTo: number;
}

export class SubscriberStore {
  /** Which campaigns each subscriber soft-bounced from (the inbound side counts them). */
  readonly softBounces: SoftBounceStore;
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly keys: SubscriberKeys;
  private readonly legacy: LegacyKeys;
  private readonly now: () => Date;
  private readonly replicaWait: ReplicaAck | undefined;
  private readonly reader: RecordReader;

  constructor({ redis, prefix, now = () => new Date(), replicaWait }: SubscriberStoreDeps) {
    this.redis = withScripts(redis);
    this.prefix = prefix;
    this.replicaWait = replicaWait;
    this.keys = subscriberKeys(prefix);
    this.legacy = legacyKeys(prefix);
    this.softBounces = new SoftBounceStore({ redis, prefix });
    this.reader = new RecordReader({ redis, prefix });
    this.now = now;
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
    const [id] = await this.reader.idsByEmail([emailKey(normalizeEmail(email))]);
    return id ? this.get(id) : undefined;
  }

  /** Subscribers for a batch of ids in one round trip, in the same order; removed ids are left out. */
  async getMany(ids: readonly string[]): Promise<Subscriber[]> {
    return (await this.reader.readMany(ids)).filter((s): s is Stored => s !== undefined).map((s) => s.subscriber);
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

  /**
   * One attempt: read (unless told not to), merge, compare-and-set; returns the rows to try
   * again. Repeats of an address in the batch are merged here and written once.
   */
  private async tryAddMany(batch: { input: NormalizedInput; index: number }[], results: AddResult[], read = true): Promise<typeof batch> {
    const keys = [...new Set(batch.map(({ input }) => emailKey(input.email)))];
    // Without reading, nothing is awaited before the write is queued on the connection: a
    // createFirst write is on its way before addNormalized returns (see AddOptions).
    const existing = read ? await this.reader.readMany(await this.reader.idsByEmail(keys)) : [];
    const inLayout1 = existing.filter((s): s is Stored => s !== undefined && s.n === undefined);
    if (inLayout1.length) {
      await moveSubscribers(
        { redis: this.redis, prefix: this.prefix },
        inLayout1.map((s) => s.subscriber.id),
      );
      return batch;
    }
    const before = new Map<string, Stored | undefined>(keys.map((key, i) => [key, existing[i]]));
    const state = new Map<string, Subscriber | undefined>(keys.map((key, i) => [key, existing[i]?.subscriber]));
    const rows = new Map<string, number[]>();
    const at = this.now().toISOString();
    for (const { input, index } of batch) {
      const key = emailKey(input.email);
      const current = state.get(key);
      const next = current ? mergeSubscriber(current, input, at) : createSubscriber('', input, at);
      results[index] = { subscriber: next, created: !current, updated: !!current && next !== current };
      state.set(key, next);
      rows.set(key, [...(rows.get(key) ?? []), index]);
    }
    const writes: Write[] = [];
    for (const key of keys) {
      const was = before.get(key);
      const after = state.get(key)!;
      if (was?.subscriber === after) continue;
      writes.push({ after, n: was?.n, rev: was?.rev ?? '0', emailKey: key, listsBefore: was?.subscriber.lists ?? [] });
    }
    if (writes.length === 0) return [];
    const pipeline = this.redis.pipeline() as ScriptedPipeline;
    const calls = queueWrites(pipeline, this.keys, this.legacy, writes);
    const names = new Set(batch.flatMap(({ input }) => Object.keys(input.attributes ?? {})));
    // A hint for export's columns; written after the records, so it may only over-report.
    if (names.size) pipeline.sadd(this.keys.attributeNames, ...names);
    const failedKeys = new Set<string>();
    (await execWrites(pipeline, calls)).forEach((value, i) => {
      const { emailKey: key, n } = writes[i]!;
      if (value <= 0) return void failedKeys.add(key);
      // A create's id is the number the script gave it.
      if (n === undefined) for (const index of rows.get(key)!) results[index]!.subscriber = { ...results[index]!.subscriber, id: idOfNumber(value) };
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
      const stored = await this.readForChange(id);
      if (!stored) throw new NewsletterError('SUBSCRIBER_NOT_FOUND', `no subscriber with id ${id}`);
      const { subscriber, rev, n } = stored;
      if (subscriber.status === status || !allowedFrom(subscriber.status)) {
        // Already so: maybe by an earlier try of this change whose replica wait failed; confirm it now.
        if (subscriber.status === status) await this.replicaWait?.after(this.keys.recordBucket(n));
        return { subscriber, changed: false };
      }
      const at = this.now().toISOString();
      const history = [...subscriber.history, { status, reason, at }].slice(-HISTORY_LIMIT);
      const after: Subscriber = { ...subscriber, status, history, updatedAt: at };
      const pipeline = this.redis.pipeline() as ScriptedPipeline;
      const calls = queueWrites(pipeline, this.keys, this.legacy, [{ after, n, rev, emailKey: emailKey(after.email), listsBefore: after.lists }]);
      const [value = 0] = await execWrites(pipeline, calls);
      if (value > 0) {
        // An unsubscribe or a bounce is a promise to the recipient: it must outlive a failover.
        await this.replicaWait?.after(this.keys.recordBucket(n));
        return { subscriber: after, changed: true };
      }
      await backoff(attempt);
    }
    throw new Error(`subscriber store: too many concurrent changes to ${id}`);
  }

  /** Deletes the subscriber and its memberships. Returns false when there was none. */
  async remove(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.readForChange(id);
      if (!stored) return false;
      const { subscriber, rev, n, legacyId } = stored;
      const legacy = legacyId === undefined ? undefined : { id: legacyId, buckets: await this.reader.aliasBuckets() };
      const args = removeArgs(this.keys, n, rev, emailKey(subscriber.email), subscriber.lists, legacy);
      if ((await this.redis.subscriberRemove(...(args as [number, ...string[]]))) === 1) {
        await this.softBounces.clear(subscriber.id);
        return true;
      }
      await backoff(attempt);
    }
    throw new Error(`subscriber store: too many concurrent changes to ${id}`);
  }

  /** Members of a list (every subscriber when list is undefined), whatever their status. */
  async countList(list?: string): Promise<number> {
    const name = list === undefined ? undefined : parseListName(list);
    // Layout 1 first: a subscriber moved in between is counted twice, never missed.
    const old = (await this.reader.legacyPresent()) ? await this.redis.zcard(name === undefined ? this.legacy.all : this.legacy.list(name)) : 0;
    return old + Number((await this.redis.hget(this.keys.counts, name ?? ALL_COUNT)) ?? 0);
  }

  /** Every list that has a member, sorted. */
  async listNames(): Promise<string[]> {
    const names = new Set((await this.redis.hkeys(this.keys.counts)).filter((name) => name !== ALL_COUNT));
    if (await this.reader.legacyPresent()) {
      const marker = this.legacy.list('');
      for (const key of await scanKeys(this.redis, `${globLiteral(marker)}*`)) names.add(key.slice(marker.length));
    }
    return [...names].sort();
  }

  /**
   * One page of ids in join order, after the cursor `after` (0 to start). The cursor is a
   * position (a subscriber number), not an index, so members joining or leaving meanwhile
   * never shift a page.
   */
  async listPage(list: string | undefined, after: number, limit: number): Promise<{ ids: string[]; next: number | undefined; last: number | undefined }> {
    const name = list === undefined ? undefined : parseListName(list);
    return readMemberPage({ redis: this.redis, keys: this.keys, legacy: this.legacy, reader: this.reader }, name, after, limit);
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

  /** Moves every subscriber still in layout 1 to layout 2 (`newsletter migrate`; subscriber-migration.ts). */
  async migrateLayout(onProgress?: (moved: number) => void): Promise<MigrationReport> {
    const report = await migrateSubscriberLayout({ redis: this.redis, prefix: this.prefix }, onProgress);
    this.reader.forgetLegacyCheck();
    return report;
  }

  /** Whether some subscribers are still in layout 1 (`newsletter migrate` moves them). */
  hasLayout1(): Promise<boolean> {
    return hasLegacySubscribers(this.redis, this.prefix);
  }

  private async read(id: string): Promise<Stored | undefined> {
    const [stored] = await this.reader.readMany([id]);
    return stored;
  }

  /** A record to change: one still in layout 1 is moved first. */
  private async readForChange(id: string): Promise<(Stored & { n: number }) | undefined> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.read(id);
      if (!stored || stored.n !== undefined) return stored as (Stored & { n: number }) | undefined;
      await moveSubscribers({ redis: this.redis, prefix: this.prefix }, [id]);
    }
    throw new Error(`subscriber store: ${id} could not be moved from layout 1`);
  }
}
