import { describe, expect, it } from 'vitest';
import { dsn, returnedHeaders, returnedJob } from './returned-mail-fixtures.ts';
import { returned, setUp, type Setup } from './returned-mail-setup.ts';
import type { ReceivedMessage } from '../helpers/smtp-server.ts';

const MAILBOX_FULL = { status: '5.2.2', diagnostic: '552 5.2.2 <reader@example.org>: Mailbox full' };
const DELAYED = { status: '4.4.1', diagnostic: 'connect to mx.example.org[192.0.2.10]:25: Connection timed out', action: 'delayed' as const };
const BLOCKED = { status: '5.7.1', diagnostic: '554 5.7.1 Service unavailable; client [192.0.2.50] blocked using zen.spamhaus.org' };

/** Six campaigns, each sent to every subscriber; the messages of the n-th (1-based) by address. */
async function sendSix(setup: Setup) {
  const campaigns = [];
  for (let n = 1; n <= 6; n++) campaigns.push(await setup.send(`issue-${n}`));
  return campaigns;
}

function report(sent: ReceivedMessage, what: { status: string; diagnostic: string; action?: 'delayed' }, id = '1') {
  return returnedJob(dsn({ to: sent.from, finalRecipient: sent.to[0]!, headers: returnedHeaders(sent), id, ...what }), [sent.from]);
}

describe('soft bounces', () => {
  it('make a subscriber bounced at the third within their last five campaigns, campaigns delivered in between notwithstanding', async () => {
    const setup = await setUp();
    const { harness, process, subscribers } = setup;
    const [ann] = subscribers;
    const campaigns = await sendSix(setup);
    const to = (n: number) => campaigns[n - 1]!.to(ann!.email);

    await process(report(to(2), MAILBOX_FULL));
    await process(report(to(4), MAILBOX_FULL));
    expect((await harness.app.subscribers.get(ann!.id))!.status).toBe('active');

    const third = await process(report(to(6), MAILBOX_FULL));

    expect(third.changes).toContain(`subscriber ${ann!.id}: bounced`);
    const subscriber = (await harness.app.subscribers.get(ann!.id))!;
    expect(subscriber.status).toBe('bounced');
    const ids = [6, 4, 2].map((n) => campaigns[n - 1]!.campaign.id);
    expect(subscriber.history.at(-1)!.reason).toBe(
      `soft bounces from 3 of the last 5 campaigns sent: ${ids.join(', ')} (the last: 5.2.2 smtp; ${MAILBOX_FULL.diagnostic})`,
    );
    for (const n of [2, 4, 6]) expect((await harness.app.campaigns.require(campaigns[n - 1]!.campaign.id)).returned.soft).toBe(1);
    expect(await setup.metric(returned('soft'))).toBe(3);
  });

  it('two within the last five, one older, the same campaign twice, a delay warning and a 5.7.1 block leave the subscriber active', async () => {
    const setup = await setUp();
    const { harness, process, subscribers } = setup;
    const [, ben] = subscribers;
    const campaigns = await sendSix(setup);
    const to = (n: number) => campaigns[n - 1]!.to(ben!.email);
    const counters = async (n: number) => (await harness.app.campaigns.require(campaigns[n - 1]!.campaign.id)).returned;

    await process(report(to(1), MAILBOX_FULL)); // older than the last five campaigns sent to them
    await process(report(to(5), MAILBOX_FULL));
    await process(report(to(6), MAILBOX_FULL));
    // A second report about the same message (another system's): the campaign counts once.
    const again = await process(report(to(6), MAILBOX_FULL, '2'));
    const delay = await process(report(to(3), DELAYED));
    const block = await process(report(to(4), BLOCKED));

    expect(again.changes).toEqual([]);
    expect(delay).toMatchObject({ kind: 'soft', changes: [`campaign ${campaigns[2]!.campaign.id}: delayed +1`] });
    expect(block).toMatchObject({ kind: 'soft', changes: [`campaign ${campaigns[3]!.campaign.id}: blocked +1`] });
    expect((await harness.app.subscribers.get(ben!.id))!.status).toBe('active');
    expect(await counters(6)).toMatchObject({ soft: 1, delayed: 0, blocked: 0 });
    expect(await counters(3)).toMatchObject({ soft: 0, delayed: 1 });
    expect(await counters(4)).toMatchObject({ soft: 0, blocked: 1 });
    // The bounce older than the window can never count again: it is forgotten.
    expect([...(await harness.app.subscribers.softBounces.read(ben!.id)).keys()].sort()).toEqual([campaigns[4]!.campaign.id, campaigns[5]!.campaign.id]);
    // Removing the subscriber removes them too.
    await harness.app.subscribers.remove(ben!.id);
    expect(await harness.app.subscribers.softBounces.read(ben!.id)).toEqual(new Map());
    // The operator sees them all among the campaign's failures.
    expect(await harness.app.campaigns.allReturned(campaigns[3]!.campaign.id)).toEqual([
      { subscriberId: ben!.id, kind: 'blocked', status: '5.7.1', detail: `smtp; ${BLOCKED.diagnostic}` },
    ]);
  });

  it('a hard bounce after a soft one in the same campaign counts as hard only', async () => {
    const setup = await setUp(1);
    const { harness, process, subscribers } = setup;
    const { campaign, to } = await setup.send('issue-1');
    const sent = to(subscribers[0]!.email);
    await process(report(sent, MAILBOX_FULL));
    await process(report(sent, { status: '5.1.1', diagnostic: '550 5.1.1 User unknown' }, '2'));
    expect((await harness.app.campaigns.require(campaign.id)).returned).toMatchObject({ hard: 1, soft: 0 });
    expect((await harness.app.subscribers.get(subscribers[0]!.id))!.status).toBe('bounced');
  });
});
