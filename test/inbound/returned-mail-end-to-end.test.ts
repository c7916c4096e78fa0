/**
 * The whole other half of the conversation, with real processes: a campaign goes out through
 * a real SMTP server with return paths on BOUNCE_DOMAIN; what a relay and a mailbox provider
 * would mail back (a hard DSN, a soft DSN, an ARF complaint, a mailto unsubscribe) goes by
 * SMTP to a real `newsletter inbound`, addressed as they would address it; the statuses,
 * counters and history follow, and the next campaign skips those it must.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { campaignDeps, campaignStatus } from '../../src/operations/campaign-operations.ts';
import { unsubscribeMailbox } from '../../src/delivery/return-path.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { processesPerTest } from '../helpers/processes.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';
import { arfComplaint, dsn, mailtoToken, mailtoUnsubscribe, returnedHeaders } from './returned-mail-fixtures.ts';
import { connectSmtp, crlf } from './smtp-client.ts';

const DOMAIN = 'bounces.news.example.org';
const processes = processesPerTest();
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Mails `raw` to the inbound server as a relay would, from the null sender to `to`: the reply to RCPT TO, else to the end of the message. */
async function mailBack(url: string, to: string, raw: string): Promise<number | undefined> {
  const client = await connectSmtp(url);
  try {
    await client.command('EHLO relay.example.net');
    const { rcpt, data } = await client.send({ from: '', to: [to], raw: crlf(raw) });
    await client.command('QUIT').catch(() => undefined);
    return rcpt[0]!.code === 250 ? data?.code : rcpt[0]!.code;
  } finally {
    client.destroy();
  }
}

describe('returned mail, end to end', () => {
  it('a hard and a soft DSN, a complaint and a mailto unsubscribe mailed to `newsletter inbound` act on subscribers and the campaign; a forged one and a repeat change nothing', async () => {
    harness = await startHarness({ env: { BOUNCE_DOMAIN: DOMAIN, SOFT_BOUNCE_LIMIT: '1', SOFT_BOUNCE_WINDOW: '1' } });
    const [hard, soft, complainer, leaver, reader] = await harness.addSubscribers(5);
    await harness.send();
    harness.startWorker();
    const sent = await harness.waitFor((c) => c.state === 'completed');
    expect(sent.accepted).toBe(5);
    const received = (email: string) => harness!.smtp.messages.find((m) => m.to[0] === email)!;
    const inbound = await processes.inbound(harness.env);

    // What comes back, each addressed as the sender of the returned mail would address it.
    const hardDsn = dsn({
      to: received(hard!.email).from,
      finalRecipient: hard!.email,
      status: '5.1.1',
      diagnostic: '550 5.1.1 <x>: Recipient address rejected: User unknown',
      headers: returnedHeaders(received(hard!.email)),
    });
    expect(await mailBack(inbound.url, received(hard!.email).from, hardDsn)).toBe(250);
    expect(
      await mailBack(
        inbound.url,
        received(soft!.email).from,
        dsn({
          to: received(soft!.email).from,
          finalRecipient: soft!.email,
          status: '5.2.2',
          diagnostic: '552 5.2.2 Mailbox full',
          headers: returnedHeaders(received(soft!.email)),
          id: '2',
        }),
      ),
    ).toBe(250);
    expect(await mailBack(inbound.url, received(complainer!.email).from, arfComplaint({ headers: returnedHeaders(received(complainer!.email)) }))).toBe(250);
    expect(
      await mailBack(
        inbound.url,
        unsubscribeMailbox(DOMAIN),
        mailtoUnsubscribe({ from: leaver!.email, to: unsubscribeMailbox(DOMAIN), token: mailtoToken(received(leaver!.email)) }),
      ),
    ).toBe(250);
    // A forged return path (the reader's, one signature letter changed) and the hard DSN again.
    const readerPath = received(reader!.email).from;
    const forged = readerPath.replace(/-([a-z2-7])([a-z2-7]{9})@/, (_m, first: string, rest: string) => `-${first === 'a' ? 'b' : 'a'}${rest}@`);
    expect(
      await mailBack(inbound.url, forged, dsn({ to: forged, finalRecipient: reader!.email, status: '5.1.1', diagnostic: '550 5.1.1 User unknown', id: '3' })),
    ).toBe(250);
    expect(await mailBack(inbound.url, received(hard!.email).from, hardDsn)).toBe(250);
    // Mail for anyone else is refused at RCPT: the inbound server never relays.
    expect(await mailBack(inbound.url, 'someone@example.com', hardDsn)).toBe(550);

    const statusOf = async (id: string) => (await harness!.app.subscribers.get(id))!.status;
    await expect.poll(() => statusOf(hard!.id), { timeout: 20_000 }).toBe('bounced');
    await expect.poll(() => statusOf(soft!.id), { timeout: 20_000 }).toBe('bounced');
    await expect.poll(() => statusOf(complainer!.id), { timeout: 20_000 }).toBe('complained');
    await expect.poll(() => statusOf(leaver!.id), { timeout: 20_000 }).toBe('unsubscribed');
    // Every job processed (the forged one and the repeat included) before reading what they did.
    await expect
      .poll(async () => harness!.app.returnedMailQueue().getJobCounts('waiting', 'active', 'delayed'), { timeout: 20_000 })
      .toEqual({ waiting: 0, active: 0, delayed: 0 });
    expect(await statusOf(reader!.id)).toBe('active');

    const status = await campaignStatus(campaignDeps(harness.app), sent.id);
    expect(status).toMatchObject({ returned: { hard: 1, soft: 1, complained: 1, unsubscribed: 1 } });
    const history = (await harness.app.subscribers.get(hard!.id))!.history;
    expect(history.filter((h) => h.status === 'bounced')).toHaveLength(1);
    expect(JSON.stringify(history.at(-1))).toMatch(new RegExp(`${sent.id}.*5\\.1\\.1`));

    // The next campaign goes only to the reader.
    const next = await (
      await import('../../src/campaign/enqueue-campaign.ts')
    ).enqueueCampaign(
      { campaigns: harness.app.campaigns, queue: harness.app.deliveryQueue(), directory: harness.app.subscribers, now: () => new Date() },
      { issue: { ...deliveryIssue, slug: 'next-issue' }, list: 'weekly', publicUrl: harness.app.config.http.publicUrl },
    );
    await expect.poll(async () => (await harness!.app.campaigns.require(next.id)).state, { timeout: 20_000 }).toBe('completed');
    expect(await harness.app.campaigns.require(next.id)).toMatchObject({ total: 5, accepted: 1, skipped: 4 });
    await inbound.spawned.stop('SIGTERM');
  });

  it('a DSN the inbound server answered 250 to is applied even when the server is killed right after', async () => {
    // A short lock: what the killed process held comes back to the next one within a second or two.
    harness = await startHarness({ env: { BOUNCE_DOMAIN: DOMAIN, WORKER_LOCK_MS: '1000' } });
    const [hard] = await harness.addSubscribers(1);
    await harness.send();
    harness.startWorker();
    await harness.waitFor((c) => c.state === 'completed');
    const sent = harness.smtp.messages[0]!;
    // It dies right after its 250, whatever it had begun to process.
    const first = await processes.inbound(harness.env);
    expect(
      await mailBack(
        first.url,
        sent.from,
        dsn({ to: sent.from, finalRecipient: hard!.email, status: '5.1.1', diagnostic: '550 5.1.1 User unknown', headers: returnedHeaders(sent) }),
      ),
    ).toBe(250);
    await first.spawned.stop('SIGKILL');
    // Whatever the first one did or did not process, the next one finishes it.
    await processes.inbound(harness.env);
    await expect.poll(async () => (await harness!.app.subscribers.get(hard!.id))!.status, { timeout: 20_000 }).toBe('bounced');
  });
});

describe('returned mail read from a mailbox (BOUNCE_IMAP_URL), end to end', () => {
  it('`newsletter inbound` reads a DSN that arrived in the mailbox, applies it once, and flags it read', async () => {
    const { startTestDovecot } = await import('../helpers/dovecot.ts');
    const dovecot = await startTestDovecot();
    try {
      // No BOUNCE_DOMAIN: bounces come back to the From address's mailbox, unsigned.
      harness = await startHarness();
      const [hard] = await harness.addSubscribers(1);
      await harness.send();
      harness.startWorker();
      const campaign = await harness.waitFor((c) => c.state === 'completed');
      const sent = harness.smtp.messages[0]!;
      await dovecot.append(
        dsn({
          to: harness.app.config.identity.fromAddress,
          finalRecipient: hard!.email,
          status: '5.1.1',
          diagnostic: '550 5.1.1 User unknown',
          headers: returnedHeaders(sent),
        }),
      );
      const inbound = await processes.newsletter(['inbound'], { ...harness.env, BOUNCE_IMAP_URL: dovecot.url(), LOG_LEVEL: 'info' }, /inbound ready/);
      await expect.poll(async () => (await harness!.app.subscribers.get(hard!.id))!.status, { timeout: 20_000 }).toBe('bounced');
      await expect.poll(async () => [...(await dovecot.flags()).values()].every((flags) => flags.has('$NewsletterProcessed')), { timeout: 10_000 }).toBe(true);
      expect((await campaignStatus(campaignDeps(harness.app), campaign.id)).returned).toMatchObject({ hard: 1 });
      expect((await inbound.stop('SIGTERM')).code).toBe(0);
    } finally {
      await dovecot.close();
    }
  });
});
