import { afterEach, describe, expect, it } from 'vitest';
import { OUTCOME_UNKNOWN_AFTER_CRASH } from '../../src/campaign/delivery-outcome.ts';
import { DeliveryLedger } from '../../src/delivery/ledger.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('the delivery ledger', () => {
  it('waits for the replica after a "sending" mark and an outcome; when that wait fails the mark is taken back, so the recipient is still sent to', async () => {
    harness = await startHarness();
    const [subscriber] = await harness.addSubscribers(1);
    await harness.send();
    const waited: string[] = [];
    let failures = 0;
    const replicaWait = {
      after: async (key: string) => {
        waited.push(key);
        if (failures-- > 0) throw new Error('Connection is closed.');
      },
    };
    const ledger = new DeliveryLedger({ redis: harness.app.redis, prefix: harness.prefix, replicaWait });
    const { sending, ledger: entries } = harness.app.campaigns.keys(harness.campaignId);
    failures = 1;
    await expect(ledger.markSending(harness.campaignId, subscriber!.id, new Date())).rejects.toThrow('Connection is closed.');
    expect(await harness.app.redis.hlen(sending)).toBe(0);
    expect(await ledger.precheck(harness.campaignId, subscriber!.id)).toMatchObject({ settled: false, outcomeUnknown: false });
    expect(await ledger.markSending(harness.campaignId, subscriber!.id, new Date())).toMatchObject({ result: 'ok' });
    expect(await ledger.record(harness.campaignId, subscriber!.id, 'accepted', '', new Date())).toBe(true);
    // The mark, its take-back (confirmed by a replica too), the second mark, the outcome.
    expect(waited).toEqual([sending, sending, sending, entries]);
  });

  it('reads the ledger entry and the campaign state in one go', async () => {
    harness = await startHarness();
    const [subscriber] = await harness.addSubscribers(1);
    await harness.send();
    const ledger = new DeliveryLedger({ redis: harness.app.redis, prefix: harness.prefix });
    expect(await ledger.precheck(harness.campaignId, subscriber!.id)).toEqual({ settled: false, state: 'running', outcomeUnknown: false });
    await ledger.record(harness.campaignId, subscriber!.id, 'deferred', '451', new Date());
    expect(await ledger.precheck(harness.campaignId, subscriber!.id)).toEqual({ settled: false, state: 'running', outcomeUnknown: false });
    await ledger.record(harness.campaignId, subscriber!.id, 'skipped', 'subscriber bounced', new Date());
    expect(await ledger.precheck(harness.campaignId, subscriber!.id)).toEqual({ settled: true, state: 'completed', outcomeUnknown: false });
    expect(await ledger.precheck('no-such-campaign', subscriber!.id)).toEqual({ settled: false, state: undefined, outcomeUnknown: false });
  });

  it('records an outcome once: a settled recipient never changes, and the counters follow', async () => {
    harness = await startHarness();
    const subscribers = await harness.addSubscribers(2);
    await harness.send();
    const ledger = new DeliveryLedger({ redis: harness.app.redis, prefix: harness.prefix });
    const [a, b] = subscribers.map((s) => s.id) as [string, string];
    expect(await ledger.record(harness.campaignId, a, 'deferred', '451 later', new Date())).toBe(true);
    expect(await harness.app.campaigns.require(harness.campaignId)).toMatchObject({ deferred: 1, accepted: 0 });
    expect(await ledger.record(harness.campaignId, a, 'accepted', '', new Date())).toBe(true);
    expect(await ledger.record(harness.campaignId, a, 'failed', '550 no', new Date())).toBe(false);
    const finished = new Date('2026-01-02T03:04:05.000Z');
    expect(await ledger.record(harness.campaignId, b, 'skipped', 'subscriber bounced', finished)).toBe(true);
    const campaign = await harness.app.campaigns.require(harness.campaignId);
    expect(campaign).toMatchObject({ total: 2, accepted: 1, failed: 0, skipped: 1, deferred: 0, state: 'completed' });
    // The last outcome's time is when the campaign finished.
    expect(campaign.finishedAt).toBe(finished.toISOString());
  });

  it('a "sending" mark without an outcome is outcome unknown; any outcome clears it, and the sender\'s late "accepted" replaces "outcome unknown"', async () => {
    harness = await startHarness();
    const subscribers = await harness.addSubscribers(3);
    await harness.send();
    const ledger = new DeliveryLedger({ redis: harness.app.redis, prefix: harness.prefix });
    const [a, b, c] = subscribers.map((s) => s.id) as [string, string, string];
    await ledger.markSending(harness.campaignId, a, new Date());
    expect(await ledger.precheck(harness.campaignId, a)).toEqual({ settled: false, state: 'running', outcomeUnknown: true });
    // A dropped connection: the sender itself records the deferral, and the mark goes.
    await ledger.record(harness.campaignId, a, 'deferred', 'Connection closed', new Date());
    expect(await ledger.precheck(harness.campaignId, a)).toEqual({ settled: false, state: 'running', outcomeUnknown: false });

    await ledger.markSending(harness.campaignId, b, new Date());
    expect(await ledger.record(harness.campaignId, b, 'failed', OUTCOME_UNKNOWN_AFTER_CRASH, new Date())).toBe(true);
    expect(await harness.app.campaigns.require(harness.campaignId)).toMatchObject({ failed: 1, accepted: 0 });
    expect(await ledger.record(harness.campaignId, b, 'accepted', '', new Date())).toBe(true);
    expect(await harness.app.campaigns.require(harness.campaignId)).toMatchObject({ failed: 0, accepted: 1 });
    // Any other failure stays as it is.
    expect(await ledger.record(harness.campaignId, c, 'failed', '550 5.1.1 no such user', new Date())).toBe(true);
    expect(await ledger.record(harness.campaignId, c, 'accepted', '', new Date())).toBe(false);
    expect(await harness.app.campaigns.require(harness.campaignId)).toMatchObject({ failed: 1, accepted: 1 });
  });
});
