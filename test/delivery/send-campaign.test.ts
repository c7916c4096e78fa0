import { afterEach, describe, expect, it } from 'vitest';
import { DEV_SECRET } from '../../src/subscribers/signing-secrets.ts';
import { verifyToken } from '../../src/subscribers/tokens.ts';
import { countByRecipient, IDLE, startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { parseMessage } from '../helpers/parse-mime.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('sending a campaign through a worker to a real SMTP server', () => {
  it('delivers exactly once to everyone, retries deferrals and a dropped connection, fails and bounces rejections', async () => {
    harness = await startHarness({
      script: {
        deferFirst: ['r3@example.org', 'r7@example.org'],
        reject: ['r5@example.org'],
        dropOnceDuringData: 'r10@example.org',
      },
    });
    const subscribers = await harness.addSubscribers(30);
    harness.startWorker({ pausePollMs: 100 });
    const started = await harness.send();
    expect(started.total).toBe(30);
    const done = await harness.waitFor((c) => c.state === 'completed');

    expect(done).toMatchObject({ total: 30, accepted: 29, failed: 1, skipped: 0, deferred: 0 });
    expect(done.accepted + done.failed + done.skipped).toBe(done.total);
    const counts = countByRecipient(harness.smtp);
    for (const { email } of subscribers) expect(counts.get(email) ?? 0).toBe(email === 'r5@example.org' ? 0 : 1);
    // Deferred first, delivered on a later attempt.
    expect(harness.smtp.rcptAttempts.get('r3@example.org')).toBeGreaterThanOrEqual(2);
    expect(harness.smtp.rcptAttempts.get('r7@example.org')).toBeGreaterThanOrEqual(2);
    // The connection dropped mid-DATA, so the envelope was sent again on a new one.
    expect(harness.smtp.rcptAttempts.get('r10@example.org')).toBeGreaterThanOrEqual(2);

    const rejected = subscribers.find((s) => s.email === 'r5@example.org')!;
    expect(await harness.app.campaigns.ledgerEntry(done.id, rejected.id)).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/^550 5\.1\.1 /) });
    expect((await harness.app.subscribers.get(rejected.id))?.status).toBe('bounced');
    const failures = await harness.app.campaigns.allFailures(done.id);
    expect(failures).toEqual([{ subscriberId: rejected.id, reply: expect.stringContaining('User unknown'), at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);
  });

  it("puts each recipient's own verifiable unsubscribe link in the body and the List-Unsubscribe header", async () => {
    harness = await startHarness();
    const subscribers = await harness.addSubscribers(5);
    harness.startWorker();
    await harness.send();
    await harness.waitFor((c) => c.state === 'completed');
    expect(harness.smtp.messages).toHaveLength(5);
    for (const message of harness.smtp.messages) {
      const parsed = parseMessage(message.raw);
      const subscriber = subscribers.find((s) => s.email === message.to[0])!;
      const headerUrl = /^<(https:\/\/[^>]+)>, <mailto:/.exec(parsed.headers.get('list-unsubscribe')!)![1]!;
      expect(parsed.text).toContain(`Unsubscribe: ${headerUrl}\n`);
      expect(parsed.html).toContain(`href="${headerUrl}"`);
      const token = headerUrl.slice('https://news.example.org/unsubscribe/'.length);
      expect(verifyToken({ current: DEV_SECRET }, token, 'unsubscribe')).toBe(subscriber.id);
      expect(parsed.headers.get('to')).toBe(subscriber.email);
      expect(parsed.headers.get('message-id')).toBe(`<${harness.campaignId}.${subscriber.id}@sofastack.tech>`);
    }
  });

  it('keeps using the pooled connection after a permanent rejection', async () => {
    harness = await startHarness({ script: { reject: ['r1@example.org'] }, env: { SMTP_MAX_CONNECTIONS: '1', WORKER_CONCURRENCY: '1' } });
    await harness.addSubscribers(3);
    harness.startWorker();
    await harness.send();
    const done = await harness.waitFor((c) => c.state === 'completed');
    expect(done).toMatchObject({ accepted: 2, failed: 1 });
    expect(harness.smtp.messages.map((m) => m.to[0])).toEqual(['r0@example.org', 'r2@example.org']);
  });

  it('refuses to send the same post to the same list twice', async () => {
    harness = await startHarness();
    await harness.addSubscribers(3);
    harness.startWorker();
    await harness.send();
    await harness.waitFor((c) => c.state === 'completed');
    await expect(harness.send()).rejects.toMatchObject({ code: 'CAMPAIGN_STATE_INVALID' });
    // Had the refused send queued anything, it would be sent before the workers fall idle.
    await expect.poll(() => harness!.batches()).toEqual(IDLE);
    expect(harness.smtp.messages).toHaveLength(3);
  });

  it('skips, with the reason, a subscriber who unsubscribes during the send', async () => {
    harness = await startHarness({ env: { SEND_RATE_PER_SECOND: '40' } });
    const subscribers = await harness.addSubscribers(20);
    const last = subscribers[19]!;
    harness.startWorker();
    await harness.send();
    await harness.smtp.waitForMessages(3);
    await harness.app.subscribers.unsubscribe(last.id, 'one-click');
    const done = await harness.waitFor((c) => c.state === 'completed');
    expect(done).toMatchObject({ total: 20, accepted: 19, skipped: 1, failed: 0 });
    expect(countByRecipient(harness.smtp).get(last.email)).toBeUndefined();
    expect(await harness.app.campaigns.ledgerEntry(done.id, last.id)).toEqual({ outcome: 'skipped', detail: 'subscriber unsubscribed' });
  });
});
