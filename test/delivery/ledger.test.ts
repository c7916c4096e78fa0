import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryLedger } from '../../src/delivery/ledger.ts';
import { startHarness, type Harness } from './harness.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('the delivery ledger', () => {
  it('reads the ledger entry and the campaign state in one go', async () => {
    harness = await startHarness();
    const [subscriber] = await harness.addSubscribers(1);
    await harness.send();
    const ledger = new DeliveryLedger({ redis: harness.app.redis, prefix: harness.prefix });
    expect(await ledger.precheck(harness.campaignId, subscriber!.id)).toEqual({ settled: false, state: 'running' });
    await ledger.record(harness.campaignId, subscriber!.id, 'r', '451', new Date());
    expect(await ledger.precheck(harness.campaignId, subscriber!.id)).toEqual({ settled: false, state: 'running' });
    await ledger.record(harness.campaignId, subscriber!.id, 's', 'subscriber bounced', new Date());
    expect(await ledger.precheck(harness.campaignId, subscriber!.id)).toEqual({ settled: true, state: 'completed' });
    expect(await ledger.precheck('no-such-campaign', subscriber!.id)).toEqual({ settled: false, state: undefined });
  });

  it('records an outcome once: a settled recipient never changes, and the counters follow', async () => {
    harness = await startHarness();
    const subscribers = await harness.addSubscribers(2);
    await harness.send();
    const ledger = new DeliveryLedger({ redis: harness.app.redis, prefix: harness.prefix });
    const [a, b] = subscribers.map((s) => s.id) as [string, string];
    expect(await ledger.record(harness.campaignId, a, 'r', '451 later', new Date())).toBe(true);
    expect(await harness.app.campaigns.require(harness.campaignId)).toMatchObject({ retrying: 1, accepted: 0 });
    expect(await ledger.record(harness.campaignId, a, 'a', '', new Date())).toBe(true);
    expect(await ledger.record(harness.campaignId, a, 'f', '550 no', new Date())).toBe(false);
    expect(await ledger.record(harness.campaignId, b, 's', 'subscriber bounced', new Date())).toBe(true);
    const campaign = await harness.app.campaigns.require(harness.campaignId);
    expect(campaign).toMatchObject({ total: 2, accepted: 1, failed: 0, skipped: 1, retrying: 0, state: 'completed' });
    expect(campaign.finishedAt).toBeDefined();
  });
});
