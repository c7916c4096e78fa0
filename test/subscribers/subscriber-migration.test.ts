/**
 * A store with subscribers still in layout 1 (written as that code wrote them): every
 * operation works on them before the move, a change moves the one it touches, and the move
 * keeps ids, join order, lists, statuses and history. A whole store written by layout 1's own
 * code, moved while a campaign sends: test/subscribers/store-fixture.test.ts.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import type { Subscriber } from '../../src/subscribers/subscriber.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';
import { writeLayout1Subscribers } from '../helpers/layout-1.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
let store: SubscriberStore;

const at = '2025-06-01T08:00:00.000Z';
const old = (i: number, lists: string[], extra: Partial<Subscriber> = {}): Subscriber => ({
  id: `layout1-id-${String(i).padStart(5, '0')}`,
  email: `old${i}@example.com`,
  name: `Old ${i}`,
  lists,
  status: 'active',
  attributes: { plan: 'pro' },
  createdAt: at,
  updatedAt: at,
  history: [{ status: 'active', reason: 'imported', at }],
  ...extra,
});

beforeEach(async () => {
  prefix = uniquePrefix('migration');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  store = new SubscriberStore({ redis, prefix });
});
afterEach(async () => {
  await cleanup();
});

describe('a store with subscribers in layout 1', () => {
  it('reads them by id and address, pages and counts them with the new ones in join order, before any move', async () => {
    const olds = [old(1, ['weekly']), old(2, ['monthly']), old(3, ['weekly', 'monthly'])];
    await writeLayout1Subscribers(redis, prefix, olds);
    const { subscriber: fresh } = await store.add({ email: 'new@example.com', lists: ['weekly'] });
    expect(Number(fresh.id)).toBeGreaterThan(5); // after layout 1's counter (3 subscribers, 4 list joins)
    expect(await store.get(olds[0]!.id)).toEqual(olds[0]);
    expect((await store.getByEmail('OLD2@example.com'))?.id).toBe(olds[1]!.id);
    expect((await store.listPage('weekly', 0, 10)).ids).toEqual([olds[0]!.id, olds[2]!.id, fresh.id]);
    // A page boundary inside layout 1 continues where it stopped.
    const first = await store.listPage(undefined, 0, 2);
    expect(first.ids).toEqual([olds[0]!.id, olds[1]!.id]);
    const second = await store.listPage(undefined, first.next!, 10);
    expect(second.ids).toEqual([olds[2]!.id, fresh.id]);
    expect(await store.countList('weekly')).toBe(3);
    expect(await store.countList()).toBe(4);
    expect(await store.listNames()).toEqual(['monthly', 'weekly']);
    expect((await store.getMany([olds[2]!.id, fresh.id, 'nobody-is-here-00'])).map((s) => s.email)).toEqual(['old3@example.com', 'new@example.com']);
  });

  it('moves one it changes, keeping its id, and never makes a second subscriber of an address it holds', async () => {
    const [a, b, c] = [old(1, ['weekly']), old(2, ['weekly']), old(3, ['weekly'])];
    await writeLayout1Subscribers(redis, prefix, [a!, b!, c!]);
    const unsubscribed = await store.unsubscribe(a!.id, 'one-click');
    expect(unsubscribed).toMatchObject({ changed: true, subscriber: { id: a!.id, status: 'unsubscribed' } });
    expect(await store.canReceive(a!.id)).toBe(false);
    const merged = await store.add({ email: 'OLD2@example.com', lists: ['monthly'] });
    expect(merged).toMatchObject({ created: false, updated: true, subscriber: { id: b!.id, lists: ['weekly', 'monthly'] } });
    expect(await store.remove(c!.id)).toBe(true);
    expect(await store.getByEmail('old3@example.com')).toBeUndefined();
    expect((await store.listPage('weekly', 0, 10)).ids).toEqual([a!.id, b!.id]);
    expect(await store.countList('weekly')).toBe(2);
    expect((await store.get(a!.id))?.history.map((h) => h.reason)).toEqual(['imported', 'one-click']);
  });

  it('moves all of them with ids, order, lists, statuses and history kept, leaves no layout-1 key, and a second run changes nothing', async () => {
    const olds = Array.from({ length: 250 }, (_, i) =>
      old(
        i,
        i % 3 ? ['weekly'] : ['weekly', 'vip'],
        i % 7
          ? {}
          : {
              status: 'unsubscribed',
              history: [
                { status: 'active', reason: 'imported', at },
                { status: 'unsubscribed', reason: 'link', at },
              ],
            },
      ),
    );
    await writeLayout1Subscribers(redis, prefix, olds);
    const pagesBefore = [];
    for await (const page of store.listPages('weekly', { size: 40 })) pagesBefore.push(...page.ids);
    const report = await store.migrateLayout();
    expect(report).toEqual({ moved: 250, damaged: [], left: 0 });
    for (const s of olds) expect(await store.get(s.id)).toEqual(s);
    const pagesAfter = [];
    for await (const page of store.listPages('weekly', { size: 40 })) pagesAfter.push(...page.ids);
    expect(pagesAfter).toEqual(pagesBefore);
    expect(pagesAfter).toEqual(olds.map((s) => s.id));
    expect(await store.countList('vip')).toBe(84);
    const keys = Object.keys(await dumpKeys(redis, prefix));
    expect(keys.filter((key) => /:sub:(s:|email$|all$|list:|seq$)/.test(key))).toEqual([]);
    const snapshot = await dumpKeys(redis, prefix);
    expect(await store.migrateLayout()).toEqual({ moved: 0, damaged: [], left: 0 });
    expect(await dumpKeys(redis, prefix)).toEqual(snapshot);
    // New subscribers number on after the moved ones.
    const { subscriber } = await store.add({ email: 'after@example.com' });
    expect(Number(subscriber.id)).toBeGreaterThan(250);
  });

  it('leaves a record it cannot read where it is and says so', async () => {
    await writeLayout1Subscribers(redis, prefix, [old(1, ['weekly']), old(2, ['weekly'])]);
    await redis.set(`${prefix}:{${prefix}}:sub:s:${old(2, []).id}`, '1|{not json');
    expect(await store.migrateLayout()).toEqual({ moved: 1, damaged: [old(2, []).id], left: 1 });
  });
});
