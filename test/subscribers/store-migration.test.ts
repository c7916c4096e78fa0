/**
 * A store written by layout 1's code (test/fixtures/store-layout-1.json) moved to layout 2
 * while a campaign to one of its lists is sending and unsubscribes arrive: afterwards every
 * subscriber, membership, status, history entry and soft bounce is there, nobody got the
 * campaign twice, every unsubscribe holds, and moving again changes nothing.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscriber } from '../../src/subscribers/subscriber.ts';
import { countByRecipient, startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';
import { joinOrder, loadStoreFixture, readStoreFixture, type StoreFixture } from '../helpers/load-store-fixture.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/store-layout-1.json', import.meta.url));
const LIST = 'weekly';

let fixture: StoreFixture;
let h: Harness;

beforeAll(async () => {
  fixture = await readStoreFixture(FIXTURE);
  // Slow enough that the move happens while the campaign sends.
  h = await startHarness({ env: { SEND_RATE_PER_SECOND: '40', WORKER_CONCURRENCY: '1' } });
  await loadStoreFixture(h.app.redis, fixture, h.prefix);
});
afterAll(async () => {
  await h?.close();
});

describe('moving a layout-1 store while a campaign sends', () => {
  it('loses nobody and nothing, mails nobody twice, and keeps every unsubscribe', async () => {
    const { app } = h;
    const subscribers = fixture.expected.subscribers as Subscriber[];
    const members = subscribers.filter((s) => s.lists.includes(LIST));
    const active = members.filter((s) => s.status === 'active');
    // Unsubscribes that arrive during the move: the last active members in join order, whose turn comes late.
    const leaving = active.slice(-15);
    const worker = h.startWorker();
    const campaign = await h.send(LIST);
    expect(campaign.total).toBe(members.length);
    await h.smtp.waitForMessages(5, 20_000);

    const moving = app.subscribers.migrateLayout();
    const unsubscribed = (async () => {
      for (const s of leaving) await app.subscribers.unsubscribe(s.id, 'one-click during the move');
    })();
    const [report] = await Promise.all([moving, unsubscribed]);
    expect(report).toMatchObject({ damaged: [], left: 0 });
    const received = h.smtp.messages.length;
    expect(received, 'the move overlapped the sending').toBeLessThan(active.length - leaving.length);

    const done = await h.waitFor((c) => c.state === 'completed', 60_000);
    await worker.stop();
    const counts = countByRecipient(h.smtp);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
    const stayed = active.filter((s) => !leaving.includes(s));
    for (const s of stayed) expect(counts.get(s.email.toLowerCase()) ?? counts.get(s.email), s.email).toBe(1);
    // Their unsubscribes came after the first messages but before their turn (they are last).
    const leftUnsent = leaving.filter((s) => !counts.has(s.email) && !counts.has(s.email.toLowerCase()));
    expect(leftUnsent.length).toBeGreaterThan(0);
    const recipients = new Set(h.smtp.messages.flatMap((m) => m.to));
    for (const s of members.filter((m) => m.status !== 'active')) expect(recipients.has(s.email.toLowerCase()) || recipients.has(s.email), s.email).toBe(false);
    expect(done).toMatchObject({ total: members.length, failed: 0 });
    expect(done.accepted + done.skipped).toBe(members.length);
    expect(done.accepted).toBe(counts.size);

    // Everything is there, in layout 2.
    const left = leaving.map((s) => s.id);
    for (const s of subscribers) {
      const now = await app.subscribers.get(s.id);
      if (!left.includes(s.id)) expect(now, s.email).toEqual(s);
      else {
        expect(now).toMatchObject({
          ...s,
          status: 'unsubscribed',
          history: [...s.history, expect.objectContaining({ status: 'unsubscribed', reason: 'one-click during the move' })],
          updatedAt: expect.any(String),
        });
        expect(await app.subscribers.canReceive(s.id)).toBe(false);
      }
      expect((await app.subscribers.getByEmail(s.email))?.id).toBe(s.id);
    }
    for (const list of Object.keys(fixture.expected.listOrder)) {
      const order: string[] = [];
      for await (const page of app.subscribers.iterateListIds(list, 50)) order.push(...page);
      expect(order, list).toEqual(joinOrder(fixture, list));
      expect(await app.subscribers.countList(list)).toBe(fixture.expected.counts.lists[list]);
    }
    expect(await app.subscribers.countList()).toBe(subscribers.length);
    for (const [id, campaigns] of Object.entries(fixture.expected.softBounces))
      expect(Object.fromEntries(await app.subscribers.softBounces.read(id))).toEqual(campaigns);
    for (const email of fixture.expected.removedEmails) expect(await app.subscribers.getByEmail(email)).toBeUndefined();
    const keys = Object.keys(await dumpKeys(app.redis, `${h.prefix}:{${h.prefix}}:sub`));
    expect(keys.filter((key) => /:sub:(s:|email$|all$|list:|seq$)/.test(key))).toEqual([]);

    // A second run finds nothing to do and changes nothing.
    const before = await dumpKeys(app.redis, `${h.prefix}:{${h.prefix}}:sub`);
    expect(await app.subscribers.migrateLayout()).toEqual({ moved: 0, damaged: [], left: 0 });
    expect(await dumpKeys(app.redis, `${h.prefix}:{${h.prefix}}:sub`)).toEqual(before);
  }, 90_000);
});
