/**
 * Subscribers in Redis. Adapter: takes { redis, prefix }, owns no connection.
 *
 * Keys (all under `${prefix}:`, with the hash tag `{prefix}` so that the multi-key scripts
 * also run on Redis Cluster; every subscriber key of a newsletter lives in one slot):
 *   P:{P}:sub:s:<id>        string one subscriber, `<rev>|<json>` (see subscriber-record.ts)
 *   P:{P}:sub:email         hash   lower-cased email -> id (uniqueness)
 *   P:{P}:sub:all           zset   every id, scored by join order
 *   P:{P}:sub:list:<name>   zset   members of a list, scored by join order (stable paging)
 *   P:{P}:sub:seq           string the join-order counter
 */
import type { Redis } from 'ioredis';
import { NewsletterError } from '../errors.ts';
import { emailKey, normalizeEmail } from './email-address.ts';
import { withScripts, type ScriptedPipeline, type ScriptedRedis } from './store-scripts.ts';
import { newSubscriberId } from './subscriber-id.ts';
import { parseRecord, recordValue } from './subscriber-record.ts';
import { parseListName, parseStatus, type Subscriber, type SubscriberStatus } from './subscriber.ts';
import {
  HISTORY_LIMIT, createSubscriber, mergeSubscriber, normalizeInput, type NormalizedInput, type SubscriberInput,
} from './subscriber-merge.ts';

export { normalizeInput, type NormalizedInput, type SubscriberInput };

export interface AddResult {
  subscriber: Subscriber;
  created: boolean;
  /** True when an existing subscriber changed (name, lists or attributes). */
  updated: boolean;
}

export interface StatusResult {
  subscriber: Subscriber;
  changed: boolean;
}

export interface SubscriberStoreDeps {
  redis: Redis;
  prefix: string;
  now?: () => Date;
  newId?: () => string;
}

const MAX_ATTEMPTS = 50;

/** Records per script call: enough to share a call's cost, few enough that one call holds Redis for about a millisecond. */
const WRITE_CHUNK = 100;

/** One compare-and-set write: the record after, the rev it must still have, its lists before. */
interface Write {
  after: Subscriber;
  rev: string;
  emailKey: string;
  listsBefore: readonly string[];
}

/** After a lost compare-and-set: a short random pause so racing writers stop moving in lockstep. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));

type Stored = { subscriber: Subscriber; rev: string };

export class SubscriberStore {
  private readonly redis: ScriptedRedis;
  private readonly base: string;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor({ redis, prefix, now = () => new Date(), newId = newSubscriberId }: SubscriberStoreDeps) {
    this.redis = withScripts(redis);
    this.base = `${prefix}:{${prefix}}:sub`;
    this.now = now;
    this.newId = newId;
  }

  /** The connection belongs to the composition root; nothing to release here. */
  async close(): Promise<void> {}

  private recordKey(id: string): string { return `${this.base}:s:${id}`; }
  private get emailIndexKey(): string { return `${this.base}:email`; }
  private get allKey(): string { return `${this.base}:all`; }
  private listKey(list: string): string { return `${this.base}:list:${list}`; }
  private get seqKey(): string { return `${this.base}:seq`; }
  private get attributeNamesKey(): string { return `${this.base}:attributes`; }

  /** Every attribute name ever imported (export's columns), sorted. */
  async attributeNames(): Promise<string[]> {
    return (await this.redis.smembers(this.attributeNamesKey)).sort();
  }

  async get(id: string): Promise<Subscriber | undefined> {
    return (await this.read(id))?.subscriber;
  }

  async getByEmail(email: string): Promise<Subscriber | undefined> {
    const id = await this.redis.hget(this.emailIndexKey, emailKey(normalizeEmail(email)));
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
    return (await this.redis.set(`${this.base}:confirm-sent:${id}`, '1', 'EX', windowSeconds, 'NX')) === 'OK';
  }

  /** Only `active` subscribers receive; checked right before each send. */
  async canReceive(id: string): Promise<boolean> {
    return (await this.read(id))?.subscriber.status === 'active';
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

  /**
   * addMany for inputs already validated by normalizeInput (an import checks each row itself,
   * to report it by line). With `createFirst`, every row is first written as a new subscriber
   * without reading anything (one round trip instead of two, for an import of new addresses);
   * a row whose address exists comes back from Redis unwritten and is read and merged as usual.
   */
  async addNormalized(inputs: readonly NormalizedInput[], { createFirst = false } = {}): Promise<AddResult[]> {
    const results: AddResult[] = new Array(inputs.length);
    let pending = inputs.map((input, index) => ({ input, index }));
    if (createFirst) pending = await this.tryAddMany(pending, results, false);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new Error('subscriber store: too many concurrent changes to the same addresses');
      if (attempt > 0) await backoff(attempt);
      pending = await this.tryAddMany(pending, results);
    }
    return results;
  }

  /** One attempt: read (unless told not to), merge, compare-and-set; returns the rows to try again. */
  private async tryAddMany(
    batch: { input: NormalizedInput; index: number }[],
    results: AddResult[],
    read = true,
  ): Promise<typeof batch> {
    const keys = [...new Set(batch.map(({ input }) => emailKey(input.email)))];
    const ids = read && keys.length ? await this.redis.hmget(this.emailIndexKey, ...keys) : [];
    const existing = await this.readMany(ids.map((id) => id ?? ''));
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
    const calls = this.queueWrites(pipeline, writes);
    const names = new Set(batch.flatMap(({ input }) => Object.keys(input.attributes ?? {})));
    // A hint for export's columns; written after the records, so it may only over-report.
    if (names.size) pipeline.sadd(this.attributeNamesKey, ...names);
    const failedKeys = new Set<string>();
    (await this.execWrites(pipeline, calls)).forEach((value, i) => {
      if (value <= 0) failedKeys.add(writes[i]!.emailKey);
    });
    return batch.filter(({ input }) => failedKeys.has(emailKey(input.email)));
  }

  /** Queues the writes, in order, as script calls of up to WRITE_CHUNK records; returns how many calls. */
  private queueWrites(pipeline: ScriptedPipeline, writes: readonly Write[]): number {
    let calls = 0;
    for (let first = 0; first < writes.length; first += WRITE_CHUNK, calls++) {
      const keys = [this.emailIndexKey, this.allKey, this.seqKey];
      const args: string[] = [];
      for (const { after, rev, emailKey: key, listsBefore } of writes.slice(first, first + WRITE_CHUNK)) {
        const join = after.lists.filter((l) => !listsBefore.includes(l));
        const leave = listsBefore.filter((l) => !after.lists.includes(l));
        keys.push(this.recordKey(after.id), ...join.map((l) => this.listKey(l)), ...leave.map((l) => this.listKey(l)));
        args.push(rev, key, after.id, String(join.length), String(leave.length), recordValue(after, Number(rev) + 1));
      }
      pipeline.subscriberWriteMany(keys.length, ...keys, ...args);
    }
    return calls;
  }

  /** Runs the pipeline; the new rev of each write (0 or -1: it lost the compare-and-set), in order. */
  private async execWrites(pipeline: ScriptedPipeline, calls: number): Promise<number[]> {
    const replies = ((await pipeline.exec()) ?? []).slice(0, calls);
    return replies.flatMap(([error, values]) => {
      if (error) throw error;
      return (values as number[]).map(Number);
    });
  }

  /** Sets a status and records why; a no-op (changed: false) when it already has it. */
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

  markComplained(id: string, reason: string): Promise<StatusResult> {
    return this.transition(id, 'complained', reason, () => true);
  }

  /** Double opt-in: only a `pending` subscriber becomes active; an old link never undoes an unsubscribe. */
  confirm(id: string, reason = 'confirmed by email link'): Promise<StatusResult> {
    return this.transition(id, 'active', reason, (from) => from === 'pending');
  }

  /** The explicit way out of suppression. */
  reactivate(id: string, reason: string): Promise<StatusResult> {
    return this.transition(id, 'active', reason, () => true);
  }

  private async transition(
    id: string,
    status: SubscriberStatus,
    reason: string,
    allowedFrom: (from: SubscriberStatus) => boolean,
  ): Promise<StatusResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.read(id);
      if (!stored) throw new NewsletterError('SUBSCRIBER_NOT_FOUND', `no subscriber with id ${id}`);
      const { subscriber, rev } = stored;
      if (subscriber.status === status || !allowedFrom(subscriber.status)) return { subscriber, changed: false };
      const at = this.now().toISOString();
      const history = [...subscriber.history, { status, reason, at }].slice(-HISTORY_LIMIT);
      const after: Subscriber = { ...subscriber, status, history, updatedAt: at };
      const pipeline = this.redis.pipeline() as ScriptedPipeline;
      const calls = this.queueWrites(pipeline, [{ after, rev, emailKey: emailKey(after.email), listsBefore: after.lists }]);
      const [value = 0] = await this.execWrites(pipeline, calls);
      if (value > 0) return { subscriber: after, changed: true };
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
      const keys = [this.recordKey(id), this.emailIndexKey, this.allKey, ...subscriber.lists.map((l) => this.listKey(l))];
      if ((await this.redis.subscriberRemove(keys.length, ...keys, rev, emailKey(subscriber.email), id)) === 1) return true;
    }
    throw new Error(`subscriber store: too many concurrent changes to ${id}`);
  }

  /** Members of a list (every subscriber when list is undefined), whatever their status. */
  async countList(list?: string): Promise<number> {
    return this.redis.zcard(list === undefined ? this.allKey : this.listKey(parseListName(list)));
  }

  /**
   * One page of ids in join order, after the cursor `after` (0 to start). The cursor is a
   * score, not an index, so members joining or leaving meanwhile never shift a page.
   */
  async listPage(list: string | undefined, after: number, limit: number): Promise<{ ids: string[]; next: number | undefined }> {
    const key = list === undefined ? this.allKey : this.listKey(parseListName(list));
    const reply = await this.redis.zrangebyscore(key, `(${after}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit);
    const ids: string[] = [];
    for (let i = 0; i < reply.length; i += 2) ids.push(reply[i]!);
    const next = reply.length ? Number(reply[reply.length - 1]) : undefined;
    return { ids, next: ids.length === limit ? next : undefined };
  }

  /** Batches of ids of a list in a stable order; streams, so a million members never sit in memory. */
  async *iterateListIds(list: string | undefined, batchSize = 1000): AsyncGenerator<string[]> {
    let after = 0;
    for (;;) {
      const page = await this.listPage(list, after, batchSize);
      if (page.ids.length) yield page.ids;
      if (page.next === undefined) return;
      after = page.next;
    }
  }

  /** Batches of subscribers of a list (every subscriber when undefined). */
  async *iterateSubscribers(list: string | undefined, batchSize = 1000): AsyncGenerator<Subscriber[]> {
    for await (const ids of this.iterateListIds(list, batchSize)) {
      const batch = await this.getMany(ids);
      if (batch.length) yield batch;
    }
  }

  private async read(id: string): Promise<Stored | undefined> {
    return id ? parseRecord(await this.redis.get(this.recordKey(id))) : undefined;
  }

  /**
   * One MGET: every record shares the hash tag, so this works on Redis Cluster too. Empty ids
   * (addresses not in the index) are not asked for: a first import skips the round trip.
   */
  private async readMany(ids: readonly string[]): Promise<(Stored | undefined)[]> {
    const present = ids.filter((id) => id);
    if (present.length === 0) return ids.map(() => undefined);
    const values = await this.redis.mget(present.map((id) => this.recordKey(id)));
    let next = 0;
    return ids.map((id) => (id ? parseRecord(values[next++]) : undefined));
  }
}
