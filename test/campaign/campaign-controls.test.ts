import { afterEach, describe, expect, it } from 'vitest';
import { cancelCampaign, pauseCampaign, resumeCampaign } from '../../src/campaign/campaign-controls.ts';
import { enqueueCampaign as enqueue, resendFailed } from '../../src/campaign/enqueue-campaign.ts';
import { OUTCOME_UNKNOWN_AFTER_CRASH } from '../../src/campaign/delivery-outcome.ts';
import { DeliveryLedger } from '../../src/delivery/ledger.ts';
import type { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { countByRecipient, IDLE, startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function controls(h: Harness) {
  return { campaigns: h.app.campaigns, queue: h.app.deliveryQueue(), now: () => new Date() };
}

/** Once the workers are idle (a late or second message would have come by then), each address got exactly one. */
async function expectEachOnce(h: Harness, emails: string[]) {
  await expect.poll(() => h.batches()).toEqual(IDLE);
  const counts = countByRecipient(h.smtp);
  for (const email of emails) expect(counts.get(email), email).toBe(1);
}

describe('campaign controls', () => {
  it('pause stops sending before the next message; resume continues from the ledger without doubles', async () => {
    harness = await startHarness({ env: { SEND_RATE_PER_SECOND: '50' } });
    const subscribers = await harness.addSubscribers(40);
    harness.startWorker({ pausePollMs: 60_000 });
    await harness.send();
    await harness.smtp.waitForMessages(5);
    const paused = await pauseCampaign(controls(harness), harness.campaignId);
    expect(paused.state).toBe('paused');
    // The messages in flight land, then the worker parks the batch (for 60 s) instead of sending on.
    await expect.poll(() => harness!.batches()).toEqual({ ...IDLE, delayed: 1 });
    const atPause = harness.smtp.messages.length;
    expect(atPause).toBeLessThan(40);
    const mid = await harness.app.campaigns.require(harness.campaignId);
    expect(mid.accepted).toBe(atPause);

    // The parked batch waits 60 s by itself: completing quickly proves resume woke it.
    await resumeCampaign(controls(harness), harness.campaignId);
    const done = await harness.waitFor((c) => c.state === 'completed', 10_000);
    expect(done).toMatchObject({ total: 40, accepted: 40, failed: 0, skipped: 0 });
    await expectEachOnce(
      harness,
      subscribers.map((s) => s.email),
    );
  });

  it('cancel stops for good: the rest are skipped with the reason and counters add up', async () => {
    harness = await startHarness({ env: { SEND_RATE_PER_SECOND: '50' } });
    const subscribers = await harness.addSubscribers(40);
    harness.startWorker();
    await harness.send();
    await harness.smtp.waitForMessages(5);
    await cancelCampaign(controls(harness), harness.campaignId);
    const done = await harness.waitFor((c) => c.accepted + c.failed + c.skipped === c.total);
    // Everyone is settled; a message sent after the cancel would arrive before the workers fall idle.
    await expect.poll(() => harness!.batches()).toEqual(IDLE);
    expect(done.state).toBe('cancelled');
    expect(done.skipped).toBeGreaterThan(0);
    expect(done.accepted).toBe(harness.smtp.messages.length);
    expect(done.accepted + done.skipped).toBe(40);
    const last = subscribers[39]!;
    expect(await harness.app.campaigns.ledgerEntry(done.id, last.id)).toEqual({ outcome: 'skipped', detail: 'campaign cancelled' });
    await expect(resumeCampaign(controls(harness), done.id)).rejects.toMatchObject({ code: 'CAMPAIGN_STATE_INVALID' });
  });

  it('resend --failed sends again only to the recipients whose delivery failed', async () => {
    let refuse = true;
    harness = await startHarness({
      onRcpt: (address) => (refuse && /^r[24]@/.test(address) ? { code: 554, message: '5.7.1 Rejected by policy' } : undefined),
    });
    const subscribers = await harness.addSubscribers(6);
    harness.startWorker();
    await harness.send();
    const first = await harness.waitFor((c) => c.state === 'completed');
    expect(first).toMatchObject({ accepted: 4, failed: 2 });
    await expect(resendFailed(controls(harness), 'no-such-campaign')).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });

    refuse = false;
    const resent = await resendFailed(controls(harness), harness.campaignId);
    expect(resent).toEqual({ round: 1, recipients: 2, unknownLeftOut: 0 });
    const done = await harness.waitFor((c) => c.state === 'completed' && c.failed === 0);
    expect(done).toMatchObject({ total: 6, accepted: 6, failed: 0, skipped: 0 });
    await expectEachOnce(
      harness,
      subscribers.map((s) => s.email),
    );
  });

  it('resend --failed leaves out failures whose outcome is unknown unless asked to include them', async () => {
    harness = await startHarness({ onRcpt: (address) => (/^r2@/.test(address) ? { code: 550, message: '5.7.1 Rejected by policy' } : undefined) });
    const subscribers = await harness.addSubscribers(4);
    const campaign = await harness.send();
    // As a worker killed after the final dot leaves it: recorded failed, outcome unknown, before anyone else sends.
    const ledger = new DeliveryLedger({ redis: harness.app.redis, prefix: harness.prefix });
    expect(await ledger.record(campaign.id, subscribers[3]!.id, 'failed', OUTCOME_UNKNOWN_AFTER_CRASH, new Date())).toBe(true);
    harness.startWorker();
    expect(await harness.waitFor((c) => c.state === 'completed')).toMatchObject({ accepted: 2, failed: 2 });

    expect(await resendFailed(controls(harness), campaign.id)).toEqual({ round: 1, recipients: 1, unknownLeftOut: 1 });
    await harness.waitFor((c) => c.state === 'completed' && c.resendRounds === 1);
    expect(countByRecipient(harness.smtp).get(subscribers[3]!.email)).toBeUndefined();

    expect(await resendFailed(controls(harness), campaign.id, { includeUnknown: true })).toEqual({ round: 2, recipients: 2, unknownLeftOut: 0 });
    const done = await harness.waitFor((c) => c.state === 'completed' && c.resendRounds === 2);
    expect(done).toMatchObject({ accepted: 3, failed: 1 });
    expect(countByRecipient(harness.smtp).get(subscribers[3]!.email)).toBe(1);
  });

  it('pause is refused for a campaign that is not running', async () => {
    harness = await startHarness();
    await expect(pauseCampaign(controls(harness), 'nope')).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
    await harness.addSubscribers(2);
    harness.startWorker();
    await harness.send();
    await harness.waitFor((c) => c.state === 'completed');
    await expect(pauseCampaign(controls(harness), harness.campaignId)).rejects.toMatchObject({ code: 'CAMPAIGN_STATE_INVALID' });
    expect((await harness.app.campaigns.require(harness.campaignId)).state).toBe('completed');
  });
});

describe('re-running an interrupted send', () => {
  const input = () => ({ issue: deliveryIssue, list: 'weekly', publicUrl: 'https://news.example.org' });
  /** The store's pages of 100, dying after `pages` of them, like a crash in the middle of `send`. */
  const crashingAfter = (store: SubscriberStore, pages: number) => ({
    async *listPages(list: string, options: { after?: number }) {
      let seen = 0;
      for await (const page of store.listPages(list, { ...options, size: 100 })) {
        if (seen++ === pages) throw new Error('crash');
        yield page;
      }
    },
  });
  const depsOf = (h: Harness) => ({ campaigns: h.app.campaigns, queue: h.app.deliveryQueue(), now: () => new Date() });

  it('continues enqueueing where it stopped: total counted once, nobody twice', async () => {
    harness = await startHarness();
    const subscribers = await harness.addSubscribers(350);
    const store = harness.app.subscribers;
    await expect(enqueue({ ...depsOf(harness), directory: crashingAfter(store, 2) }, input())).rejects.toThrow('crash');
    expect(await harness.app.campaigns.require(harness.campaignId)).toMatchObject({ state: 'enqueuing', total: 200, batches: 2 });

    const resumed = await enqueue({ ...depsOf(harness), directory: store }, input());
    expect(resumed).toMatchObject({ state: 'running', total: 350, batches: 4 });
    harness.startWorker();
    const done = await harness.waitFor((c) => c.state === 'completed');
    expect(done).toMatchObject({ total: 350, accepted: 350 });
    await expectEachOnce(
      harness,
      subscribers.map((s) => s.email),
    );
    expect(harness.smtp.messages).toHaveLength(350);
  });

  it('continues from the last member enqueued when members were removed in between: nobody is left out', async () => {
    harness = await startHarness();
    const subscribers = await harness.addSubscribers(350);
    const store = harness.app.subscribers;
    await expect(enqueue({ ...depsOf(harness), directory: crashingAfter(store, 2) }, input())).rejects.toThrow('crash');
    // One member already enqueued leaves before `send` runs again: the list shifts by one.
    const [gone] = subscribers.splice(10, 1);
    await store.remove(gone!.id);
    const resumed = await enqueue({ ...depsOf(harness), directory: store }, input());
    expect(resumed).toMatchObject({ state: 'running', total: 350 });
    harness.startWorker();
    const done = await harness.waitFor((c) => c.state === 'completed');
    expect(done).toMatchObject({ total: 350, accepted: 349, skipped: 1 });
    await expectEachOnce(
      harness,
      subscribers.map((s) => s.email),
    );
    expect(harness.smtp.messages).toHaveLength(349);
  });

  it('adds exactly the page it was adding when it stopped between queueing the batches and counting them', async () => {
    harness = await startHarness();
    const subscribers = await harness.addSubscribers(250);
    const store = harness.app.subscribers;
    const campaigns = harness.app.campaigns;
    let counted = 0;
    // Dies after the first page's jobs are in the queue, before they are counted.
    const dying = Object.create(campaigns, {
      addBatches: {
        value: async (...args: Parameters<typeof campaigns.addBatches>) =>
          counted++ === 0 ? Promise.reject(new Error('crash')) : campaigns.addBatches(...args),
      },
    }) as typeof campaigns;
    const small = { listPages: (list: string, options: { after?: number }) => store.listPages(list, { ...options, size: 100 }) };
    await expect(enqueue({ ...depsOf(harness), campaigns: dying, directory: small }, input())).rejects.toThrow('crash');
    expect(await campaigns.require(harness.campaignId)).toMatchObject({ state: 'enqueuing', total: 0, batches: 0 });
    // The list changes before the re-run; the page already in the queue is counted as it was.
    await store.remove(subscribers[0]!.id);
    const resumed = await enqueue({ ...depsOf(harness), directory: small }, input());
    expect(resumed).toMatchObject({ state: 'running', total: 250, batches: 3 });
    harness.startWorker();
    const done = await harness.waitFor((c) => c.state === 'completed');
    expect(done).toMatchObject({ total: 250, accepted: 249, skipped: 1 });
    await expectEachOnce(
      harness,
      subscribers.slice(1).map((s) => s.email),
    );
  });
});
