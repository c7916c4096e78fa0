import { describe, expect, it } from 'vitest';
import { unsubscribeMailbox } from '../../src/delivery/return-path.ts';
import { UNSUBSCRIBE_DELAY } from '../../src/metrics/definitions.ts';
import { buildWebServer } from '../../src/processes/web-server.ts';
import { arfComplaint, autoReply, mailtoToken, mailtoUnsubscribe, returnedHeaders, returnedJob } from './returned-mail-fixtures.ts';
import { DOMAIN, returned, setUp, unmatched, unsubscribes } from './returned-mail-setup.ts';

const FBL_ADDRESS = `fbl@${DOMAIN}`;

describe('complaints', () => {
  it('make the subscriber complained at once, matched on the return path or our Message-ID in the returned headers, never on the redacted address', async () => {
    const setup = await setUp();
    const { harness, process, subscribers } = setup;
    const [ann, ben] = subscribers;
    const { campaign, to } = await setup.send('issue-1');

    const byReturnPath = await process(returnedJob(arfComplaint({ headers: returnedHeaders(to(ann!.email)) }), [FBL_ADDRESS]));
    const withoutReturnPath = returnedHeaders(to(ben!.email)).replace(/^Return-Path: .*\r\n/, '');
    const byMessageId = await process(returnedJob(arfComplaint({ headers: withoutReturnPath }), [FBL_ADDRESS]));

    expect(byReturnPath).toMatchObject({ kind: 'complaint', matched: { subscriberId: ann!.id, campaignId: campaign.id, by: 'return-path' } });
    expect(byMessageId).toMatchObject({ kind: 'complaint', matched: { subscriberId: ben!.id, campaignId: campaign.id, by: 'message-id' } });
    for (const { id } of [ann!, ben!]) {
      expect((await harness.app.subscribers.get(id))!.history.at(-1)).toEqual({
        status: 'complained',
        reason: `complaint (feedback loop, abuse) about campaign ${campaign.id}`,
        at: expect.any(String),
      });
    }
    expect((await harness.app.campaigns.require(campaign.id)).returned.complained).toBe(2);
    expect(await setup.metric(returned('complained'))).toBe(2);
    expect(await setup.metric(unsubscribes('complaint'))).toBe(2);
  });

  it('for a Message-ID we never sent is unmatched and changes nothing', async () => {
    const setup = await setUp();
    const { harness, process, subscribers } = setup;
    const { campaign, to } = await setup.send('issue-1');
    const headers = returnedHeaders(to(subscribers[0]!.email))
      .replace(/^Return-Path: .*\r\n/, '')
      .replace(/^Message-ID: <[^.]+--weekly\./m, 'Message-ID: <issue-9--weekly.');

    const outcome = await process(returnedJob(arfComplaint({ headers }), [FBL_ADDRESS]));

    expect(outcome).toMatchObject({ kind: 'complaint', matched: undefined, unmatched: 'unknown_delivery' });
    expect((await harness.app.subscribers.get(subscribers[0]!.id))!.status).toBe('active');
    expect((await harness.app.campaigns.require(campaign.id)).returned.complained).toBe(0);
    expect(await setup.metric(unmatched('unknown_delivery'))).toBe(1);
  });
});

describe('a mailto unsubscribe', () => {
  it('unsubscribes exactly as the one-click POST does: the same status, the same history entry, the same metric by how', async () => {
    const setup = await setUp();
    const { harness, process, subscribers } = setup;
    const [ann, ben] = subscribers;
    const { campaign, to } = await setup.send('issue-1');
    const server = await buildWebServer(harness.app);
    try {
      const base = await server.listen({ port: 0, host: '127.0.0.1' });
      const post = await fetch(`${base}/unsubscribe/${mailtoToken(to(ben!.email))}`, {
        method: 'POST',
        body: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(post.status).toBe(200);
    } finally {
      await server.close();
    }

    const outcome = await process(
      returnedJob(mailtoUnsubscribe({ from: ann!.email, to: unsubscribeMailbox(DOMAIN), token: mailtoToken(to(ann!.email)) }), [unsubscribeMailbox(DOMAIN)]),
    );

    expect(outcome).toMatchObject({ kind: 'unsubscribe', matched: { subscriberId: ann!.id, campaignId: campaign.id, by: 'token' } });
    const [byMail, byPost] = [(await harness.app.subscribers.get(ann!.id))!, (await harness.app.subscribers.get(ben!.id))!];
    expect(byMail.status).toBe('unsubscribed');
    expect(byMail.history.at(-1)).toEqual({ status: 'unsubscribed', reason: 'unsubscribe mail (List-Unsubscribe mailto)', at: expect.any(String) });
    expect(Object.keys(byMail.history.at(-1)!)).toEqual(Object.keys(byPost.history.at(-1)!));
    expect(await harness.app.subscribers.canReceive(ann!.id)).toBe(false);
    expect(await setup.metric(unsubscribes('mail'))).toBe(1);
    expect(await setup.metric(unsubscribes('one_click'))).toBe(1);
    // Both measured how long the unsubscribe took from its arrival.
    const fleet = await harness.app.fleetMetrics().read();
    const observed = Object.entries(fleet)
      .filter(([field]) => field.startsWith(`${UNSUBSCRIBE_DELAY.name}{le=`))
      .reduce((sum, [, count]) => sum + Number(count), 0);
    expect(observed).toBe(2);
    // The campaign counts the unsubscribe by mail (the POST carries no campaign).
    expect((await harness.app.campaigns.require(campaign.id)).returned.unsubscribed).toBe(1);
  });

  it('with a forged token is unmatched and changes nothing', async () => {
    const setup = await setUp();
    const { harness, process, subscribers } = setup;
    const { to } = await setup.send('issue-1');
    const token = mailtoToken(to(subscribers[0]!.email));
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;

    const outcome = await process(
      returnedJob(mailtoUnsubscribe({ from: subscribers[0]!.email, to: unsubscribeMailbox(DOMAIN), token: forged }), [unsubscribeMailbox(DOMAIN)]),
    );

    expect(outcome).toMatchObject({ kind: 'unsubscribe', matched: undefined, unmatched: 'token_invalid' });
    expect((await harness.app.subscribers.get(subscribers[0]!.id))!.status).toBe('active');
  });
});

describe('an auto-reply', () => {
  it('is only counted: the address works', async () => {
    const setup = await setUp();
    const { process, subscribers, snapshot } = setup;
    const { campaign, to } = await setup.send('issue-1');
    const sent = to(subscribers[0]!.email);
    const before = await snapshot();

    const outcome = await process(returnedJob(autoReply({ to: sent.from, inReplyTo: sent.messageId }), [sent.from]));

    expect(outcome).toMatchObject({ kind: 'auto-reply', matched: { subscriberId: subscribers[0]!.id, campaignId: campaign.id }, changes: [] });
    expect(await setup.metric(returned('auto_reply'))).toBe(1);
    const after = await snapshot();
    const stores = (dump: Record<string, unknown>) => Object.fromEntries(Object.entries(dump).filter(([key]) => !/:(inbound|metrics)\b/.test(key)));
    expect(stores(after)).toEqual(stores(before));
  });
});
