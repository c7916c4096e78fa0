/**
 * The store fixture test/fixtures/store-layout-1.json (a store written by layout 1's code, see
 * build-layout-1-store.ts of commit f1b4be1) loads into a fresh prefix, and today's store reads back from it what
 * layout 1's store read when the fixture was built, before anything is moved. The move itself,
 * while a campaign sends: store-migration.test.ts.
 */
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { SUBSCRIBER_STATUSES, type Subscriber } from '../../src/subscribers/subscriber.ts';
import { dumpStoreFixture, joinOrder, loadStoreFixture, readStoreFixture, renameFixtureKey, type StoreFixture } from '../helpers/load-store-fixture.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/store-layout-1.json', import.meta.url));

let fixture: StoreFixture;
let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
let store: SubscriberStore;

beforeAll(async () => {
  fixture = await readStoreFixture(FIXTURE);
});
beforeEach(async () => {
  prefix = uniquePrefix('fixture');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  await loadStoreFixture(redis, fixture, prefix);
  store = new SubscriberStore({ redis, prefix });
});
afterEach(async () => {
  await cleanup();
});

describe('the layout-1 store fixture', () => {
  it('covers what a migration must carry: three overlapping lists, every status, removals, soft bounces', () => {
    const { counts, removedEmails, softBounces, confirmationSent } = fixture.expected;
    expect(counts.subscribers).toBeGreaterThan(250);
    expect(Object.keys(counts.lists)).toEqual(['monthly', 'vip', 'weekly']);
    for (const status of SUBSCRIBER_STATUSES) expect(counts.statuses[status], status).toBeGreaterThan(0);
    expect(Object.values(counts.lists).reduce((a, b) => a + b, 0)).toBeGreaterThan(counts.subscribers);
    expect(removedEmails.length).toBeGreaterThan(0);
    expect(Object.keys(softBounces).length).toBeGreaterThan(0);
    expect(confirmationSent.length).toBeGreaterThan(0);
    const subscribers = fixture.expected.subscribers as Subscriber[];
    expect(subscribers.some((s) => s.history.length >= 4)).toBe(true);
    expect(subscribers.some((s) => /[\u4e00-\u9fff]/.test(s.name ?? ''))).toBe(true);
    expect(subscribers.some((s) => Object.values(s.attributes).some((v) => v.includes('\n') && v.includes('"')))).toBe(true);
  });

  it('loads under a new prefix and hash tag, key for key', async () => {
    const loaded = await dumpStoreFixture(redis, prefix);
    const renamed = Object.fromEntries(Object.entries(fixture.keys).map(([key, entry]) => [renameFixtureKey(key, fixture.prefix, prefix), entry]));
    expect(loaded).toEqual(renamed);
    expect(Object.keys(loaded).every((key) => key.startsWith(`${prefix}:{${prefix}}:`))).toBe(true);
  });

  it('reads back the counts per list and status the store read when it was built', async () => {
    const { counts } = fixture.expected;
    expect(await store.countList()).toBe(counts.subscribers);
    expect(await store.listNames()).toEqual(Object.keys(counts.lists));
    for (const [list, count] of Object.entries(counts.lists)) expect(await store.countList(list), list).toBe(count);
    const read: Subscriber[] = [];
    for await (const batch of store.iterateSubscribers(undefined, 100)) read.push(...batch);
    const tally = (members: Subscriber[]) =>
      Object.fromEntries(SUBSCRIBER_STATUSES.map((status) => [status, members.filter((s) => s.status === status).length]));
    expect(tally(read)).toEqual(counts.statuses);
    for (const list of Object.keys(counts.lists)) expect(tally(read.filter((s) => s.lists.includes(list))), list).toEqual(counts.listStatuses[list]);
  });

  it('reads back every subscriber, each list in join order, the soft bounces and the removals', async () => {
    const { expected } = fixture;
    const read: Subscriber[] = [];
    for await (const batch of store.iterateSubscribers(undefined, 100)) read.push(...batch);
    expect(read).toEqual(expected.subscribers);
    for (const list of Object.keys(expected.listOrder)) {
      const order: string[] = [];
      for await (const page of store.iterateListIds(list, 37)) order.push(...page);
      expect(order, list).toEqual(joinOrder(fixture, list));
      expect([...order].sort(), list).toEqual([...expected.listOrder[list]!].sort());
    }
    for (const [id, campaigns] of Object.entries(expected.softBounces)) expect(Object.fromEntries(await store.softBounces.read(id))).toEqual(campaigns);
    for (const email of expected.removedEmails) expect(await store.getByEmail(email), email).toBeUndefined();
    expect(await store.attributeNames()).toEqual(expected.attributeNames);
    // A mark that is there refuses a second confirmation email within its window.
    for (const id of expected.confirmationSent) expect(await store.claimConfirmationEmail(id, 60), id).toBe(false);
  });
});
