import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RAW_BYTES_KEPT, ReturnedMailStore } from '../../src/inbound/returned-mail-store.ts';
import { createReturnedMailProcessor } from '../../src/inbound/process-returned-mail.ts';
import { createLogger } from '../../src/logger.ts';
import { returnedMailDeps } from '../../src/operations/returned-mail-operations.ts';
import { dsn, returnedHeaders, returnedJob } from './returned-mail-fixtures.ts';
import { DOMAIN, returned, setUp, unmatched, unsubscribes } from './returned-mail-setup.ts';

const USER_UNKNOWN = '550 5.1.1 <kim@example.org>: Recipient address rejected: User unknown in virtual mailbox table';

describe('a hard bounce that comes back by mail', () => {
  it('makes the subscriber bounced at once, with the campaign, the status and the diagnostic in the history, and counts it on the campaign', async () => {
    const { harness, process, send, subscribers, metric } = await setUp();
    const [kim] = subscribers;
    const { campaign, to } = await send('issue-1');
    const sent = to(kim!.email);

    const outcome = await process(
      returnedJob(dsn({ to: sent.from, finalRecipient: kim!.email, status: '5.1.1', diagnostic: USER_UNKNOWN, headers: returnedHeaders(sent) }), [sent.from]),
    );

    expect(outcome).toMatchObject({ kind: 'hard', matched: { subscriberId: kim!.id, campaignId: campaign.id, by: 'return-path' } });
    const subscriber = await harness.app.subscribers.get(kim!.id);
    expect(subscriber!.status).toBe('bounced');
    expect(subscriber!.history.at(-1)).toEqual({
      status: 'bounced',
      reason: `hard bounce by mail after campaign ${campaign.id}: 5.1.1 smtp; ${USER_UNKNOWN}`,
      at: expect.any(String),
    });
    expect((await harness.app.campaigns.require(campaign.id)).returned).toEqual({ hard: 1, soft: 0, blocked: 0, delayed: 0, complained: 0, unsubscribed: 0 });
    expect(await harness.app.campaigns.allReturned(campaign.id)).toEqual([
      { subscriberId: kim!.id, kind: 'hard', status: '5.1.1', detail: `smtp; ${USER_UNKNOWN}` },
    ]);
    expect(await metric(returned('hard'))).toBe(1);
    expect(await metric(unsubscribes('bounce'))).toBe(1);
  });

  it('changes nothing, and counts nothing, the second time the same DSN is processed', async () => {
    const { process, send, subscribers, snapshot } = await setUp();
    const sent = (await send('issue-1')).to(subscribers[0]!.email);
    const job = returnedJob(dsn({ to: sent.from, finalRecipient: sent.to[0]!, status: '5.1.1', diagnostic: USER_UNKNOWN, headers: returnedHeaders(sent) }), [
      sent.from,
    ]);
    expect((await process(job)).changes).not.toEqual([]);
    const before = await snapshot();

    const again = await process(job);

    expect(again).toMatchObject({ kind: 'hard', matched: { subscriberId: subscribers[0]!.id, by: 'return-path' }, changes: [] });
    expect(await snapshot()).toEqual(before);
  });

  it('is matched by our Message-ID when it does not come to the return path, and by the failed address only from a mailbox (IMAP)', async () => {
    const { harness, process, send, subscribers } = await setUp();
    const [kim, lee] = subscribers;
    const { campaign, to } = await send('issue-1');
    // A relay that mails bounces to the From address, with the returned headers (no Return-Path kept).
    const headers = returnedHeaders(to(kim!.email)).replace(/^Return-Path: .*\r\n/, '');
    const byMessageId = await process(
      returnedJob(dsn({ to: 'news@example.org', finalRecipient: kim!.email, status: '5.1.1', diagnostic: USER_UNKNOWN, headers }), ['postmaster@' + DOMAIN]),
    );
    expect(byMessageId).toMatchObject({ kind: 'hard', matched: { subscriberId: kim!.id, campaignId: campaign.id, by: 'message-id' } });

    // Nothing but the address, over SMTP to the bounce domain: anyone could have written it, so it bounces nobody.
    const bare = dsn({ to: 'news@example.org', finalRecipient: lee!.email, status: '5.1.1', diagnostic: USER_UNKNOWN });
    const overSmtp = await process(returnedJob(bare, ['postmaster@' + DOMAIN]));
    expect(overSmtp).toMatchObject({ kind: 'hard', matched: undefined, unmatched: 'not_ours' });
    expect((await harness.app.subscribers.get(lee!.id))!.status).toBe('active');
    // The same from the From address's mailbox (IMAP), where unsigned bounces come back: the subscriber is matched, the campaign is not guessed.
    const byAddress = await process(returnedJob(bare, ['news@example.org'], { via: 'imap' }));
    expect(byAddress).toMatchObject({ kind: 'hard', matched: { subscriberId: lee!.id, campaignId: undefined, by: 'address' } });
    expect((await harness.app.subscribers.get(lee!.id))!.status).toBe('bounced');
    expect((await harness.app.campaigns.require(campaign.id)).returned.hard).toBe(1);
  });
});

describe('mail that matches nobody', () => {
  it('a forged return path changes nothing and is kept for the operator, even when the rest of the message names a real delivery', async () => {
    const { harness, process, send, subscribers, snapshot, metric } = await setUp();
    const sent = (await send('issue-1')).to(subscribers[0]!.email);
    const signature = sent.from.slice(sent.from.lastIndexOf('-') + 1, sent.from.indexOf('@'));
    const forged = sent.from.replace(`-${signature}@`, `-${signature.slice(0, -1)}${signature.endsWith('a') ? 'b' : 'a'}@`);
    const before = await snapshot();

    const outcome = await process(
      returnedJob(dsn({ to: forged, finalRecipient: subscribers[0]!.email, status: '5.1.1', diagnostic: USER_UNKNOWN, headers: returnedHeaders(sent) }), [
        forged,
      ]),
    );

    expect(outcome).toEqual({ kind: 'hard', matched: undefined, unmatched: 'forged', changes: [] });
    const after = await snapshot();
    const inbound = (key: string) => key.includes(':inbound:');
    const metricsKey = `${harness.prefix}:{${harness.prefix}}:metrics`;
    const withoutInbound = (dump: Record<string, unknown>) => Object.fromEntries(Object.entries(dump).filter(([key]) => !inbound(key) && key !== metricsKey));
    expect(withoutInbound(after)).toEqual(withoutInbound(before));
    expect(await metric(unmatched('forged'))).toBe(1);
    expect(await metric(returned('hard'))).toBe(0);
    const [kept] = await new ReturnedMailStore({ redis: harness.app.redis, prefix: harness.prefix }).recentUnmatched();
    expect(kept).toMatchObject({
      kind: 'hard',
      reason: 'forged',
      rcptTo: [forged],
      recipients: [{ address: subscribers[0]!.email, kind: 'hard', status: '5.1.1' }],
    });
    expect(kept!.raw!.toString('latin1')).toContain('Final-Recipient: rfc822; ' + subscribers[0]!.email);
  });

  it('a DSN naming another domain’s address, not a subscriber, is unmatched: not ours', async () => {
    const { process, metric } = await setUp();
    const outcome = await process(
      returnedJob(dsn({ to: 'postmaster@' + DOMAIN, finalRecipient: 'someone@elsewhere.example.net', status: '5.1.1', diagnostic: USER_UNKNOWN }), [
        'postmaster@' + DOMAIN,
      ]),
    );
    expect(outcome).toMatchObject({ kind: 'hard', matched: undefined, unmatched: 'not_ours' });
    expect(await metric(unmatched('not_ours'))).toBe(1);
  });

  it('a huge binary message is unclassified, kept with its first 64 KiB, and counted once however often it comes', async () => {
    const { harness, process, metric } = await setUp(0);
    const raw = Buffer.concat([Buffer.from('Subject: \xff\xfe\r\n\r\n', 'latin1'), randomBytes(3 * 1024 * 1024)]);
    const job = returnedJob(raw, ['postmaster@' + DOMAIN]);

    expect(await process(job)).toEqual({ kind: 'none', matched: undefined, unmatched: 'unclassified', changes: [] });
    await process(job);

    const kept = await new ReturnedMailStore({ redis: harness.app.redis, prefix: harness.prefix }).recentUnmatched();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ kind: 'none', reason: 'unclassified', size: raw.byteLength });
    expect(kept[0]!.raw).toEqual(raw.subarray(0, RAW_BYTES_KEPT));
    expect(await metric(unmatched('unclassified'))).toBe(1);
  });

  it('logs whom and what without an address, matched or not', async () => {
    const { harness, send, subscribers } = await setUp();
    const sent = (await send('issue-1')).to(subscribers[0]!.email);
    let logged = '';
    const log = createLogger({ logLevel: 'info' }, { name: 'inbound', stream: { write: (line: string) => ((logged += line), true) } as NodeJS.WritableStream });
    const process = createReturnedMailProcessor(returnedMailDeps(harness.app, log));
    const report = dsn({
      to: sent.from,
      finalRecipient: sent.to[0]!,
      status: '5.1.1',
      diagnostic: `550 5.1.1 <${sent.to[0]}>: User unknown`,
      headers: returnedHeaders(sent),
    });

    await process(returnedJob(report, [sent.from]));
    await process(
      returnedJob(dsn({ to: 'x@' + DOMAIN, finalRecipient: 'stranger@elsewhere.example.net', status: '5.1.1', diagnostic: USER_UNKNOWN }), ['x@' + DOMAIN]),
    );

    const lines = logged
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'returned mail applied', kind: 'hard', by: 'return-path', subscriberId: subscribers[0]!.id }),
      expect.objectContaining({ msg: expect.stringContaining('s***@elsewhere.example.net, not a subscriber'), reason: 'not_ours' }),
    ]);
    expect(logged).not.toContain(sent.to[0]);
    expect(logged).not.toContain('stranger@');
  });
});
