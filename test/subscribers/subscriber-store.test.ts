import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNewsletterError } from '../../src/errors.ts';
import { SubscriberStore, normalizeInput, type AddResult } from '../../src/subscribers/subscriber-store.ts';
import type { Subscriber } from '../../src/subscribers/subscriber.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
let store: SubscriberStore;
let clock: Date;

beforeEach(async () => {
  prefix = uniquePrefix('store');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  clock = new Date('2026-01-05T10:00:00.000Z');
  store = new SubscriberStore({ redis, prefix, now: () => clock });
});
afterEach(async () => {
  await cleanup();
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isNewsletterError(error) ? error.code : String(error);
  }
  return undefined;
}

describe('SubscriberStore', () => {
  it('creates a subscriber with a normalised email, default list and a history entry', async () => {
    const { subscriber, created } = await store.add({ email: '  Ann.Lee@Example.COM ', name: 'Ann Lee', attributes: { city: 'Köln' } });
    expect(created).toBe(true);
    expect(subscriber).toMatchObject({
      email: 'Ann.Lee@example.com',
      name: 'Ann Lee',
      lists: ['default'],
      status: 'active',
      attributes: { city: 'Köln' },
      createdAt: '2026-01-05T10:00:00.000Z',
      history: [{ status: 'active', reason: 'added', at: '2026-01-05T10:00:00.000Z' }],
    });
    expect(await store.get(subscriber.id)).toEqual(subscriber);
    expect((await store.getByEmail('ann.lee@EXAMPLE.com'))?.id).toBe(subscriber.id);
  });

  it('keeps one subscriber per address and merges lists, name and attributes', async () => {
    const first = await store.add({ email: 'bo@example.com', lists: ['weekly'] });
    const again = await store.add({ email: 'BO@example.com', lists: ['weekly'] });
    expect(again).toMatchObject({ created: false, updated: false });
    const merged = await store.add({ email: 'bo@example.com', name: 'Bo', lists: ['monthly'], attributes: { a: '1' } });
    expect(merged.updated).toBe(true);
    expect(merged.subscriber).toMatchObject({ id: first.subscriber.id, name: 'Bo', lists: ['weekly', 'monthly'], attributes: { a: '1' } });
    expect(await store.countList()).toBe(1);
    expect(await store.countList('weekly')).toBe(1);
    expect(await store.countList('monthly')).toBe(1);
  });

  it('rejects an invalid address with SUBSCRIBER_EMAIL_INVALID and writes nothing', async () => {
    for (const email of ['', 'no-at-sign', 'a@b', 'a b@example.com', '@example.com', 'a@-x.com', 'a@example.com\r\nBcc: x@y.z']) {
      expect(await codeOf(store.add({ email })), email).toBe('SUBSCRIBER_EMAIL_INVALID');
    }
    expect(await codeOf(store.add({ email: 'ok@example.com', lists: ['bad list'] }))).toBe('INPUT_INVALID');
    expect(await dumpKeys(redis, prefix)).toEqual({});
  });

  it('validates a whole batch before writing any of it', async () => {
    expect(await codeOf(store.addMany([{ email: 'good@example.com' }, { email: 'bad' }]))).toBe('SUBSCRIBER_EMAIL_INVALID');
    expect(await dumpKeys(redis, prefix)).toEqual({});
  });

  it('records status changes with reason and time, and is idempotent', async () => {
    const { subscriber } = await store.add({ email: 'c@example.com' });
    clock = new Date('2026-01-06T00:00:00.000Z');
    const first = await store.unsubscribe(subscriber.id, 'one-click');
    const second = await store.unsubscribe(subscriber.id, 'one-click');
    expect(first.changed).toBe(true);
    expect(second.changed).toBe(false);
    expect(second.subscriber.history).toEqual([
      { status: 'active', reason: 'added', at: '2026-01-05T10:00:00.000Z' },
      { status: 'unsubscribed', reason: 'one-click', at: '2026-01-06T00:00:00.000Z' },
    ]);
    expect(await store.canReceive(subscriber.id)).toBe(false);
  });

  it('keeps suppressed subscribers suppressed when they are re-imported into another list', async () => {
    const bounced = (await store.add({ email: 'b@example.com' })).subscriber;
    const complained = (await store.add({ email: 'c@example.com' })).subscriber;
    await store.markBounced(bounced.id, '550 5.1.1 no such user');
    await store.setStatus(complained.id, 'complained', 'feedback loop');
    await store.addMany([
      { email: 'b@example.com', lists: ['other'], status: 'active' },
      { email: 'c@example.com', lists: ['other'], status: 'active' },
    ]);
    expect((await store.get(bounced.id))?.status).toBe('bounced');
    expect((await store.get(complained.id))?.status).toBe('complained');
    expect(await store.canReceive(bounced.id)).toBe(false);
    await store.setStatus(bounced.id, 'active', 'operator checked the mailbox');
    expect(await store.canReceive(bounced.id)).toBe(true);
  });

  it('confirms only pending subscribers, so an old confirmation link never undoes an unsubscribe', async () => {
    const { subscriber } = await store.add({ email: 'p@example.com', status: 'pending' });
    expect(await store.canReceive(subscriber.id)).toBe(false);
    expect((await store.confirm(subscriber.id)).changed).toBe(true);
    expect(await store.canReceive(subscriber.id)).toBe(true);
    await store.unsubscribe(subscriber.id, 'link');
    expect((await store.confirm(subscriber.id)).changed).toBe(false);
    expect((await store.get(subscriber.id))?.status).toBe('unsubscribed');
  });

  it('streams list members in join order, in batches, with a stable cursor', async () => {
    const emails = Array.from({ length: 25 }, (_, i) => `m${i}@example.com`);
    const added = await store.addMany(emails.map((email) => ({ email, lists: ['weekly'] })));
    await store.add({ email: 'other@example.com', lists: ['monthly'] });
    const batches: string[][] = [];
    for await (const ids of store.iterateListIds('weekly', 10)) batches.push(ids);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(added.map((r) => r.subscriber.id));
    const subs = await store.getMany(batches[0]!);
    expect(subs.map((s) => s.email)).toEqual(emails.slice(0, 10));
    // Removing a member mid-way never shifts the following page.
    const page1 = await store.listPage('weekly', 0, 10);
    await store.remove(page1.ids[3]!);
    const page2 = await store.listPage('weekly', page1.next!, 10);
    expect(page2.ids).toEqual(batches[1]);
    expect(await store.countList('weekly')).toBe(24);
  });

  it('merges repeats of one address inside a batch', async () => {
    const results = await store.addMany([
      { email: 'd@example.com', name: 'D' },
      { email: 'D@example.com', name: 'D' },
      { email: 'd@example.com', attributes: { x: '1' } },
    ]);
    expect(results.map((r) => [r.created, r.updated])).toEqual([
      [true, false],
      [false, false],
      [false, true],
    ]);
    expect((await store.getByEmail('d@example.com'))?.attributes).toEqual({ x: '1' });
  });

  it('writes a batch without reading first (createFirst) with the same outcome as reading first', async () => {
    const reading = new SubscriberStore({ redis, prefix: `${prefix}:reading`, now: () => clock });
    for (const s of [store, reading]) {
      await s.add({ email: 'old@example.com', name: 'Old', lists: ['a'] });
      const { subscriber } = await s.add({ email: 'gone@example.com' });
      await s.unsubscribe(subscriber.id, 'asked');
    }
    const batch = [
      { email: 'new@example.com', lists: ['b'] },
      { email: 'OLD@example.com', name: 'Renamed', lists: ['b'] },
      { email: 'new@example.com', attributes: { plan: 'pro' } },
      { email: 'gone@example.com', lists: ['b'] },
      { email: 'old@example.com', name: 'Renamed' },
    ].map((input) => normalizeInput(input));
    const written = await store.addNormalized(batch, { createFirst: true });
    const read = await reading.addNormalized(batch);
    const outcome = (results: AddResult[]) => results.map((r) => [r.created, r.updated, r.subscriber.email]);
    expect(outcome(written)).toEqual(outcome(read));
    expect(outcome(written).map(([created, updated]) => [created, updated])).toEqual([
      [true, false],
      [false, true],
      [false, true],
      [false, true],
      [false, false],
    ]);
    const withoutId = (s: Subscriber | undefined) => s && { ...s, id: undefined };
    for (const email of ['new@example.com', 'old@example.com', 'gone@example.com']) {
      expect(withoutId(await store.getByEmail(email))).toEqual(withoutId(await reading.getByEmail(email)));
    }
    expect((await store.getByEmail('gone@example.com'))?.status).toBe('unsubscribed');
    const members = async (s: SubscriberStore, list: string) => (await s.getMany((await s.listPage(list, 0, 10)).ids)).map((m) => m.email).sort();
    expect(await members(store, 'b')).toEqual(['gone@example.com', 'new@example.com', 'old@example.com']);
    expect(await members(store, 'b')).toEqual(await members(reading, 'b'));
    // Nothing left over from the rows that went back to be read: one record per address.
    const records = async (p: string) =>
      Object.values(await dumpKeys(redis, `${p}:{${p}}:sub:r:`)).reduce((n, { value }) => n + Object.keys(value as object).length, 0);
    expect(await records(prefix)).toBe(3);
    expect(await records(`${prefix}:reading`)).toBe(3);
  });

  it('never loses a change when two writers race on the same subscriber', async () => {
    const { subscriber } = await store.add({ email: 'race@example.com' });
    const other = new SubscriberStore({ redis, prefix });
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => store.add({ email: 'race@example.com', attributes: { [`k${i}`]: 'v' } })),
      other.unsubscribe(subscriber.id, 'race'),
    ]);
    const final = await store.get(subscriber.id);
    expect(final?.status).toBe('unsubscribed');
    expect(Object.keys(final!.attributes)).toHaveLength(10);
  });

  it('removes a subscriber with its memberships and email index', async () => {
    const { subscriber } = await store.add({ email: 'gone@example.com', lists: ['weekly'] });
    expect(await store.remove(subscriber.id)).toBe(true);
    expect(await store.remove(subscriber.id)).toBe(false);
    expect(await store.getByEmail('gone@example.com')).toBeUndefined();
    const left = Object.keys(await dumpKeys(redis, prefix));
    expect(left).toEqual([`${prefix}:{${prefix}}:sub:n`]);
  });

  it('keeps every key under the prefix with one hash tag', async () => {
    await store.add({ email: 'k@example.com', lists: ['a', 'b'] });
    const keys = Object.keys(await dumpKeys(redis, prefix));
    expect(keys.length).toBeGreaterThan(3);
    for (const key of keys) expect(key.startsWith(`${prefix}:{${prefix}}:`)).toBe(true);
  });

  it('reports an unknown id as SUBSCRIBER_NOT_FOUND on a status change', async () => {
    expect(await codeOf(store.unsubscribe('nope', 'x'))).toBe('SUBSCRIBER_NOT_FOUND');
  });
});
